/**
 * Unmasking of client frames. `bufferutil` (an optional dependency) does it natively and
 * is much faster on large payloads; short ones are faster in JavaScript than the call.
 * `WS_NO_BUFFER_UTIL` turns the native path off, as it does for `ws`.
 */

interface NativeMask {
  unmask(buffer: Buffer, mask: Buffer): void;
}

const NATIVE_FROM = 32;

function loadNative(): NativeMask | undefined {
  if (process.env.WS_NO_BUFFER_UTIL) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const native = require("bufferutil") as NativeMask;
    return typeof native.unmask === "function" ? native : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** XORs `buf[start..end)` in place with the 4-byte key at `buf[maskOffset..maskOffset+4)`. */
export function unmask(buf: Buffer, maskOffset: number, start: number, end: number): void {
  if (native !== undefined && end - start >= NATIVE_FROM) {
    native.unmask(buf.subarray(start, end), buf.subarray(maskOffset, maskOffset + 4));
    return;
  }
  const m0 = buf[maskOffset];
  const m1 = buf[maskOffset + 1];
  const m2 = buf[maskOffset + 2];
  const m3 = buf[maskOffset + 3];
  let i = start;
  for (; i + 3 < end; i += 4) {
    buf[i] ^= m0;
    buf[i + 1] ^= m1;
    buf[i + 2] ^= m2;
    buf[i + 3] ^= m3;
  }
  if (i < end) buf[i++] ^= m0;
  if (i < end) buf[i++] ^= m1;
  if (i < end) buf[i] ^= m2;
}

/** Whether the native path is in use (the tests check both paths). */
export const nativeUnmask = native !== undefined;
