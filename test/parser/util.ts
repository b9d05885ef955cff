/** Helpers shared by the parser tests: decoding chunk sequences and comparing with socket.io-parser. */
import assert from "node:assert/strict";
import * as official from "socket.io-parser";
import { Decoder, Encoder, type DecoderOptions, type Packet } from "../../src/parser/index";

export { official };

export type Chunk = string | Buffer | ArrayBuffer | ArrayBufferView;

/** Feeds `chunks` to a fresh Decoder and returns every packet it emitted. */
export function decodeAll(chunks: readonly Chunk[], opts?: DecoderOptions): Packet[] {
  const decoder = new Decoder(opts);
  const out: Packet[] = [];
  decoder.on("decoded", (packet) => out.push(packet));
  for (const chunk of chunks) decoder.add(chunk);
  return out;
}

/** Decodes `chunks` that must make exactly one packet. */
export function decodeOne(chunks: readonly Chunk[] | string, opts?: DecoderOptions): Packet {
  const packets = decodeAll(typeof chunks === "string" ? [chunks] : chunks, opts);
  assert.equal(packets.length, 1, "expected exactly one decoded packet");
  return packets[0];
}

/** The bytes of any binary value, as a fresh Buffer. */
export function bytesOf(value: unknown): Buffer {
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return Buffer.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  throw new Error(`not binary: ${Object.prototype.toString.call(value)}`);
}

/**
 * What a value looks like after a trip over the wire: binary becomes a Buffer with the
 * same bytes, -0 becomes 0, a non-finite number (1e400 parses to Infinity) becomes null. Keys are copied as own properties (so "__proto__" survives).
 */
export function normalize(value: unknown): unknown {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return bytesOf(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: normalize((value as Record<string, unknown>)[key]),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (Object.is(value, -0)) return 0;
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}

/** What `fn` returns, or the error it throws. */
function attempt<R>(fn: () => R): { ok: true; value: R } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Encodes with ours and the official Encoder; asserts identical header and attachment
 * bytes, or that both throw the same error (JSON.stringify refusing a BigInt, say).
 */
export function assertSameAsOfficial(
  packet: Packet,
  replacer?: (this: unknown, key: string, value: unknown) => unknown,
): Array<string | Buffer> {
  const mine = attempt(() => new Encoder(replacer).encode(packet));
  const their = attempt((): unknown[] => new official.Encoder(replacer as never).encode(packet as official.Packet));
  if (!mine.ok || !their.ok) {
    assert.ok(!mine.ok && !their.ok, `only one encoder threw: ${String(mine.ok ? (their as { error: unknown }).error : mine.error)}`);
    assert.equal((mine.error as Error).constructor, (their.error as Error).constructor);
    assert.equal((mine.error as Error).message, (their.error as Error).message);
    return [];
  }
  const ours = mine.value;
  const theirs = their.value;
  assert.equal(ours.length, theirs.length, "chunk count");
  assert.equal(ours[0], theirs[0], "header string");
  for (let i = 1; i < ours.length; i++) {
    assert.ok(Buffer.isBuffer(ours[i]), `attachment ${i - 1} is a Buffer`);
    assert.deepEqual(ours[i], bytesOf(theirs[i]), `attachment ${i - 1} bytes`);
  }
  return ours;
}
