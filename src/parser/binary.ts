/**
 * Binary attachments: finding them in outgoing data, swapping them for numbered
 * placeholders (`{"_placeholder":true,"num":N}`, numbered depth-first), and putting
 * received buffers back where the placeholders were.
 */
import { ParserError, ParserErrorCode } from "./errors";

/** What counts as binary: Buffer, ArrayBuffer, every typed array and DataView. */
export type BinaryData = Buffer | ArrayBuffer | ArrayBufferView;

export function isBinary(value: unknown): value is BinaryData {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A Buffer over the same memory as `data`: no copy. */
export function toBuffer(data: BinaryData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

type Indexable = Record<string, unknown>;

function hasToJSON(value: object): value is { toJSON(): unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}

/**
 * Whether `value` holds binary anywhere. Follows `toJSON` like JSON.stringify does (once
 * per value: the result of a `toJSON` call is not asked again), so what is found here is
 * exactly what `deconstruct` will replace. No allocation: this is the encoder's fast path.
 */
export function hasBinary(value: unknown, fromToJSON = false): boolean {
  if (!value || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasBinary(value[i])) return true;
    return false;
  }
  if (isBinary(value)) return true;
  if (!fromToJSON && hasToJSON(value)) return hasBinary(value.toJSON(), true);
  for (const key in value) {
    if (Object.hasOwn(value, key) && hasBinary((value as Indexable)[key])) return true;
  }
  return false;
}

/**
 * A copy of `value` with each binary replaced by a placeholder, its bytes appended to
 * `buffers`. The caller's data is never modified. Objects with `toJSON` (Dates among them)
 * are replaced by its result, as JSON.stringify would.
 */
export function deconstruct(value: unknown, buffers: Buffer[], fromToJSON = false): unknown {
  if (!value || typeof value !== "object") return value;
  if (isBinary(value)) {
    const placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(toBuffer(value));
    return placeholder;
  }
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = deconstruct(value[i], buffers);
    return copy;
  }
  if (!fromToJSON && hasToJSON(value)) return deconstruct(value.toJSON(), buffers, true);
  const copy: Indexable = {};
  for (const key in value) {
    if (Object.hasOwn(value, key)) defineOwn(copy, key, deconstruct((value as Indexable)[key], buffers));
  }
  return copy;
}

/**
 * Sets an own, enumerable property. Plain assignment of the key "__proto__" would
 * replace the object's prototype instead of creating a property.
 */
function defineOwn(target: Indexable, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Where a placeholder sits: `parent[key]` gets attachment `num`. */
export interface PlaceholderSlot {
  parent: unknown[] | Indexable;
  key: number | string;
  num: number;
}

/** A short, safe rendering of a peer-supplied value for an error message. */
function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value; // a BigInt or cycle from a reviver
  }
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function isPlaceholder(value: object): boolean {
  return Object.hasOwn(value, "_placeholder") && (value as Indexable)._placeholder === true;
}

/**
 * Finds every placeholder in freshly decoded `data` and checks them against the
 * announced attachment count: each `num` must be an integer in `[0, count)` and every
 * attachment must be referenced exactly once (the official encoder numbers each binary
 * once, in order). `data` is the packet's array (a placeholder at the root is not
 * looked for: the decoder has already required an array). Done when the header
 * arrives, so a bad packet fails before its attachments are buffered. Iterative, so
 * deep nesting cannot overflow the stack.
 */
export function findPlaceholders(data: unknown, count: number): PlaceholderSlot[] {
  const slots: PlaceholderSlot[] = [];
  const used = new Uint8Array(count);
  const seen = new Set<object>();
  const stack: object[] = data && typeof data === "object" ? [data] : [];
  const visit = (parent: unknown[] | Indexable, key: number | string, child: unknown): void => {
    if (!child || typeof child !== "object" || isBinary(child)) return;
    if (Array.isArray(child) || !isPlaceholder(child)) {
      stack.push(child);
      return;
    }
    const num = (child as Indexable).num;
    if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= count) {
      throw new ParserError(ParserErrorCode.INVALID_PLACEHOLDER, `num ${describe(num)} is not an attachment index`);
    }
    if (used[num]) throw new ParserError(ParserErrorCode.INVALID_PLACEHOLDER, `attachment ${num} referenced twice`);
    used[num] = 1;
    slots.push({ parent, key, num });
  };
  while (stack.length > 0) {
    const node = stack.pop() as object;
    // A reviver may return shared or cyclic objects; visit each once.
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node, i, node[i]);
    } else {
      for (const key of Object.keys(node)) visit(node as Indexable, key, (node as Indexable)[key]);
    }
  }
  if (slots.length !== count) {
    throw new ParserError(ParserErrorCode.INVALID_PLACEHOLDER, `${count - slots.length} of ${count} attachments unused`);
  }
  return slots;
}

/** Puts each attachment where its placeholder was (mutates the decoded data). */
export function fillPlaceholders(slots: readonly PlaceholderSlot[], buffers: readonly Buffer[]): void {
  for (const { parent, key, num } of slots) {
    if (Array.isArray(parent)) parent[key as number] = buffers[num];
    else defineOwn(parent, key as string, buffers[num]);
  }
}
