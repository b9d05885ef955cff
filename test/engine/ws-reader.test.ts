/**
 * Volley's own WebSocket reading and handshake, without the network: the FrameReader
 * against `ws`'s own Receiver on the same random byte streams (differential), frames cut
 * at every byte, a large message in many chunks, unmasking with and without bufferutil,
 * and the opening-handshake checks against a real `ws` WebSocketServer.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { dirname, join } from "node:path";
import { Duplex } from "node:stream";
import fc from "fast-check";
import { WebSocketServer, type WebSocket } from "ws";
import { FrameReader, WebSocketFrameError, isValidCloseCode } from "../../src/engine/websocket/ws-reader";
import { acceptKey, checkUpgradeRequest, firstProtocol, switchingProtocolsHead } from "../../src/engine/websocket/ws-handshake";
import { closeFramePayload } from "./raw-util";

// ---- `ws` internals used as the reference ----

/** The part of `ws`'s Receiver (a Writable) that the comparison drives. */
interface WsReceiver {
  on(event: "message", fn: (data: Buffer, isBinary: boolean) => void): this;
  on(event: "ping" | "pong", fn: (data: Buffer) => void): this;
  on(event: "conclude", fn: (code: number, reason: Buffer) => void): this;
  on(event: "error", fn: (err: Error) => void): this;
  _write(chunk: Buffer, encoding: string, cb: (err?: Error | null) => void): void;
}
type WsReceiverClass = new (options: { isServer: boolean; maxPayload: number; binaryType: string }) => WsReceiver;

const wsLib = join(dirname(require.resolve("ws")), "lib");
const { Receiver } = require("ws") as { Receiver: WsReceiverClass };
// Not in the package's exports: loaded by file, the same module instances `ws` itself uses.
const { kStatusCode } = require(join(wsLib, "constants.js")) as { kStatusCode: symbol };
const wsSubprotocol = require(join(wsLib, "subprotocol.js")) as { parse(header: string): Set<string> };

// ---- outcomes of a byte stream ----

type Outcome =
  | readonly ["text", string]
  | readonly ["binary", string]
  | readonly ["ping", string]
  | readonly ["pong", string]
  | readonly ["close", number, string]
  | readonly ["error", number];

/** Large payloads are compared by length and digest, so that a failure report stays readable. */
function digest(data: Buffer): string {
  if (data.length <= 32) return data.toString("hex");
  return `${data.length} bytes, sha1 ${createHash("sha1").update(data).digest("hex")}`;
}

function textOutcome(text: string): Outcome {
  return ["text", text.length <= 64 ? text : `${text.length} chars, sha1 ${createHash("sha1").update(text).digest("hex")}`];
}

/** A FrameReader that writes down what it reads; anything after the end is recorded as a fault. */
class Recorder extends FrameReader {
  readonly outcomes: Outcome[] = [];
  readonly errors: WebSocketFrameError[] = [];
  /** Whole binary messages as delivered (copied: the reader hands out views of its chunk). */
  readonly binaries: Buffer[] = [];
  private ended = false;

  constructor(protected readonly maxPayload: number) {
    super();
  }

  private record(outcome: Outcome, ends = false): void {
    this.outcomes.push(this.ended ? (["error", -1] as const) : outcome);
    if (ends) this.ended = true;
  }

  protected onText(text: string): void {
    this.record(textOutcome(text));
  }
  protected onBinary(data: Buffer): void {
    this.binaries.push(Buffer.from(data));
    this.record(["binary", digest(data)]);
  }
  protected onPing(payload: Buffer): void {
    this.record(["ping", digest(payload)]);
  }
  protected onPong(payload: Buffer): void {
    this.record(["pong", digest(payload)]);
  }
  protected onCloseFrame(code: number, reason: string): void {
    this.record(["close", code, reason], true);
  }
  protected onFrameError(error: WebSocketFrameError): void {
    this.errors.push(error);
    this.record(["error", error.closeCode], true);
  }
}

function readWithVolley(chunks: readonly Buffer[], maxPayload: number): { outcomes: Outcome[]; errors: WebSocketFrameError[]; stopped: boolean } {
  const reader = new Recorder(maxPayload);
  // Every chunk, even after the end: the reader must ignore what follows a close or an error.
  for (const chunk of chunks) reader.read(Buffer.from(chunk));
  return { outcomes: reader.outcomes, errors: reader.errors, stopped: reader.readingStopped };
}

interface WsResult {
  outcomes: Outcome[];
  /** `ws`'s own error code (WS_ERR_…) and message, for the diagnostics. */
  error?: { code: string; message: string };
}

function readWithWs(chunks: readonly Buffer[], maxPayload: number): WsResult {
  const receiver = new Receiver({ isServer: true, maxPayload, binaryType: "nodebuffer" });
  const result: WsResult = { outcomes: [] };
  let ended = false;
  receiver.on("message", (data, isBinary) => result.outcomes.push(isBinary ? ["binary", digest(data)] : textOutcome(data.toString("utf8"))));
  receiver.on("ping", (data) => result.outcomes.push(["ping", digest(data)]));
  receiver.on("pong", (data) => result.outcomes.push(["pong", digest(data)]));
  receiver.on("conclude", (code, reason) => {
    result.outcomes.push(["close", code, reason.toString("utf8")]);
    ended = true;
  });
  receiver.on("error", () => {});
  // `_write` directly: the error comes back through the callback, in the same turn, where
  // the stream would emit it on a later tick. A WebSocket stops feeding its Receiver
  // after the close frame or the error, so this does too.
  for (const chunk of chunks) {
    if (ended) break;
    receiver._write(Buffer.from(chunk), "buffer", (err) => {
      if (!err) return;
      ended = true;
      const status = (err as unknown as Record<symbol, number>)[kStatusCode];
      result.outcomes.push(["error", status]);
      result.error = { code: (err as Error & { code: string }).code, message: err.message };
    });
  }
  return result;
}

// ---- building client frames ----

interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  mask: Buffer;
  /** "min" is the shortest encoding; "16" and "64" force the extended fields. */
  lengthField: "min" | "16" | "64";
  payload: Buffer;
  /** A length to declare instead of the payload's (the payload that follows is then cut short). */
  declared?: bigint;
}

function encodeFrame(f: FrameSpec): Buffer {
  const length = f.declared ?? BigInt(f.payload.length);
  let field: 7 | 16 | 64 = length < 126n ? 7 : length < 0x10000n ? 16 : 64;
  if (f.lengthField === "16" && field === 7) field = 16;
  if (f.lengthField === "64") field = 64;
  const ext = field === 7 ? 0 : field === 16 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (f.masked ? 4 : 0));
  head[0] = (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode;
  head[1] = (f.masked ? 0x80 : 0) | (field === 7 ? Number(length) : field === 16 ? 126 : 127);
  if (field === 16) head.writeUInt16BE(Number(length), 2);
  else if (field === 64) head.writeBigUInt64BE(length, 2);
  if (!f.masked) return Buffer.concat([head, f.payload]);
  f.mask.copy(head, 2 + ext);
  const body = Buffer.alloc(f.payload.length);
  for (let i = 0; i < body.length; i++) body[i] = f.payload[i] ^ f.mask[i & 3];
  return Buffer.concat([head, body]);
}

function plainFrame(opcode: number, payload: Buffer | string, fin = true, lengthField: FrameSpec["lengthField"] = "min"): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  return encodeFrame({ fin, rsv: 0, opcode, masked: true, mask: Buffer.from([0x37, 0xfa, 0x21, 0x3d]), lengthField, payload: data });
}

/** Deterministic filler, so that large payloads cost no shrinking. */
function filler(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function asciiOf(bytes: Buffer): Buffer {
  const text = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < bytes.length; i++) text[i] = 0x20 + (bytes[i] % 0x5f);
  return text;
}

function cut(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const cuts = [...new Set(positions.filter((p) => p > 0 && p < bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of cuts) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

// ---- arbitraries ----

const INVALID_UTF8 = [
  [0xff],
  [0x80],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80], // a surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82], // cut short
  [0xf0, 0x9f, 0x98],
];

const validText = fc.string({ unit: "binary", maxLength: 40, size: "medium" }).map((s) => Buffer.from(s));
const invalidText = fc
  .tuple(fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom(...INVALID_UTF8), fc.string({ unit: "binary", maxLength: 20 }))
  .map(([a, bad, b]) => Buffer.concat([Buffer.from(a), Buffer.from(bad), Buffer.from(b)]));
// "medium": lengths spread over the whole range, not only the first few bytes.
const smallBytes = (max: number) => fc.uint8Array({ maxLength: max, size: "medium" }).map((a) => Buffer.from(a));
const mask = fc.oneof(
  { weight: 9, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(4)) },
);
const masked = fc.oneof({ weight: 60, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const rsv = fc.oneof({ weight: 60, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) });
const dataLengthField = fc.constantFrom<FrameSpec["lengthField"]>("min", "min", "min", "16", "64");

const CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];
const BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1999, 2000, 2999, 5000, 65535];

const closeBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: smallBytes(1).filter((b) => b.length === 1) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constantFrom(...CLOSE_CODES), fc.constantFrom(...BAD_CLOSE_CODES), fc.integer({ min: 0, max: 0xffff })),
        // At most 30 code points of at most 4 bytes: within the 123 bytes a close reason may have.
        fc.oneof({ weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map((s) => Buffer.from(s)) }, { weight: 1, arbitrary: invalidText.filter((b) => b.length <= 123) }),
      )
      .map(([code, reason]) => closeFramePayload(code, reason)),
  },
);

/** Control frames: FIN set, up to 125 bytes, in any length encoding (ws refuses the longer ones). */
const controlFrame: fc.Arbitrary<FrameSpec> = fc
  .record({ opcode: fc.constantFrom(0x9, 0xa, 0x9, 0xa, 0x8), body: smallBytes(125), close: closeBody, mask, masked, rsv, lengthField: dataLengthField })
  .map(({ opcode, body, close, mask, masked, rsv, lengthField }) => ({ fin: true, rsv, opcode, masked, mask, lengthField, payload: opcode === 0x8 ? close : body }));

/** A whole message, in one frame or in fragments with control frames between them. */
const message: fc.Arbitrary<FrameSpec[]> = fc
  .record({
    kind: fc.oneof(
      { weight: 12, arbitrary: fc.record({ opcode: fc.constant(0x1), payload: validText }) },
      { weight: 1, arbitrary: fc.record({ opcode: fc.constant(0x1), payload: fc.oneof(invalidText, smallBytes(40)) }) },
      { weight: 6, arbitrary: fc.record({ opcode: fc.constant(0x2), payload: smallBytes(300) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          opcode: fc.constantFrom(0x1, 0x2),
          // Large enough for the 16- and 64-bit fields; ASCII filler when it is text.
          payload: fc.tuple(fc.integer({ min: 126, max: 70_000 }), fc.integer()).map(([n, seed]) => filler(n, seed)),
        }),
      },
    ),
    // Random cuts, or even ones (so that every fragment may be below maxPayload and their sum above).
    cuts: fc.oneof(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
      fc.integer({ min: 2, max: 8 }).map((n) => Array.from({ length: n - 1 }, (_, i) => (i + 1) / n)),
    ),
    between: fc.array(fc.tuple(fc.nat(), controlFrame), { maxLength: 3 }),
    lengthField: dataLengthField,
    mask,
    masked,
  })
  .map(({ kind, cuts, between, lengthField, mask, masked }) => {
    const opcode = kind.opcode;
    const payload = opcode === 0x1 && kind.payload.length > 300 ? asciiOf(kind.payload) : kind.payload;
    // Cuts may fall inside a UTF-8 sequence: validity is of the whole message.
    const parts = cut(payload, cuts.map((c) => Math.floor(c * payload.length)));
    if (cuts.length > 0 && parts.length === 1) parts.push(Buffer.alloc(0));
    const frames: FrameSpec[] = parts.map((part, i) => ({
      fin: i === parts.length - 1,
      rsv: 0,
      opcode: i === 0 ? opcode : 0x0,
      masked,
      mask,
      lengthField,
      payload: part,
    }));
    if (frames.length === 1) return frames;
    // Control frames go between fragments (never before the first).
    for (const [at, control] of between) frames.splice(1 + (at % (frames.length - 1)), 0, control);
    return frames;
  });

/** Any opcode, FIN, RSV bits and mask: mostly refused, sometimes a valid frame by chance (control frames: shortest encoding, as above). */
const anyFrame: fc.Arbitrary<FrameSpec> = fc
  .record({ fin: fc.boolean(), rsv, opcode: fc.integer({ min: 0, max: 15 }), masked, mask, payload: smallBytes(140), lengthField: dataLengthField });

/**
 * A header declaring more than the reader accepts: data frames above maxPayload (some far
 * above, some past 2^53 - 1), control frames above 125 bytes. Only a few bytes follow.
 */
const oversize = (maxPayload: number): fc.Arbitrary<FrameSpec> =>
  fc
    .record({
      opcode: fc.constantFrom(0x1, 0x2, 0x0, 0x8, 0x9, 0xa),
      fin: fc.boolean(),
      declared: fc.oneof(
        fc.bigInt({ min: BigInt(maxPayload) + 1n, max: BigInt(maxPayload) + 70_000n }),
        fc.constantFrom(2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
      ),
      lengthField: dataLengthField,
      payload: smallBytes(8),
      mask,
      masked,
    })
    .map((f) => {
      if (f.opcode < 0x8) return { ...f, rsv: 0 };
      // Control frames: above 125 bytes, up to past 2^53 - 1.
      const declared = f.declared > 125n ? f.declared : 126n;
      return { ...f, rsv: 0, fin: true, declared };
    });

interface Scenario {
  maxPayload: number;
  frames: FrameSpec[];
  /** Where the concatenated bytes are cut, as fractions of their length; or one chunk per byte. */
  chunking: number[] | "bytewise";
}

const scenario: fc.Arbitrary<Scenario> = fc.constantFrom(64, 125, 1000, 100_000, 100_000).chain((maxPayload) =>
  fc.record({
    maxPayload: fc.constant(maxPayload),
    // Mostly valid traffic first, so that runs get deep before a refusal ends them; then
    // perhaps a frame that is likely refused, then anything (which must then be ignored).
    frames: fc
      .tuple(
        fc.array(fc.oneof({ weight: 3, arbitrary: message }, { weight: 1, arbitrary: controlFrame.map((f) => [f]) }), { minLength: 1, maxLength: 10, size: "medium" }),
        fc.option(fc.oneof({ weight: 3, arbitrary: anyFrame.map((f) => [f]) }, { weight: 1, arbitrary: oversize(maxPayload).map((f) => [f]) }), { freq: 1 }),
        fc.array(fc.oneof(message, anyFrame.map((f) => [f])), { maxLength: 3 }),
      )
      .map(([valid, bad, rest]) => [...valid.flat(), ...(bad ?? []), ...rest.flat()]),
    chunking: fc.oneof({ weight: 12, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 16 }) }, { weight: 1, arbitrary: fc.constant("bytewise" as const) }),
  }),
);

function chunksOf(sc: Scenario): Buffer[] {
  const bytes = Buffer.concat(sc.frames.map(encodeFrame));
  if (sc.chunking === "bytewise" && bytes.length <= 4096) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    return chunks;
  }
  const fractions = sc.chunking === "bytewise" ? [] : sc.chunking;
  return cut(bytes, fractions.map((f) => Math.floor(f * bytes.length)));
}

// ---- tests ----

describe("FrameReader against ws's Receiver", () => {
  test("random frame sequences in random chunks: the same messages, pings, pongs, close and first error", { timeout: 60_000 }, (t) => {
    const seen = { runs: 0, messages: 0, controls: 0, closes: 0, errors: new Map<number, number>(), errorCodeMismatches: 0 };
    fc.assert(
      fc.property(scenario, (sc) => {
        const chunks = chunksOf(sc);
        const volley = readWithVolley(chunks, sc.maxPayload);
        const ws = readWithWs(chunks, sc.maxPayload);
        assert.deepEqual(volley.outcomes, ws.outcomes);
        const last = volley.outcomes.at(-1);
        const ended = last !== undefined && (last[0] === "close" || last[0] === "error");
        assert.equal(volley.stopped, ended, "reading stops exactly at a close frame or an error");
        seen.runs++;
        for (const o of volley.outcomes) {
          if (o[0] === "text" || o[0] === "binary") seen.messages++;
          else if (o[0] === "ping" || o[0] === "pong") seen.controls++;
          else if (o[0] === "close") seen.closes++;
          else seen.errors.set(o[1], (seen.errors.get(o[1]) ?? 0) + 1);
        }
        // Same checks in the same order: the same error name, not only the same close code.
        if (ws.error && volley.errors[0] && ws.error.code !== volley.errors[0].code) {
          seen.errorCodeMismatches++;
          assert.equal(volley.errors[0].code, ws.error.code);
        }
      }),
      { numRuns: 1000 },
    );
    t.diagnostic(
      `${seen.runs} runs: ${seen.messages} messages, ${seen.controls} pings/pongs, ${seen.closes} closes; errors by close code: ` +
        [...seen.errors].map(([code, n]) => `${code}: ${n}`).join(", ") +
        `; error names differing from ws's: ${seen.errorCodeMismatches}`,
    );
    // Each kind of outcome was reached, or the generator is not doing its job.
    assert.ok(seen.messages > 100 && seen.controls > 50 && seen.closes > 20, JSON.stringify({ ...seen, errors: [...seen.errors] }));
    for (const code of [1002, 1007, 1009]) assert.ok((seen.errors.get(code) ?? 0) > 5, `errors with close code ${code} reached`);
  });

  test("each refusal, one frame at a time: the close code, error name and message of ws", () => {
    const cases: Array<{ name: string; bytes: Buffer; maxPayload?: number }> = [
      { name: "RSV1", bytes: encodeFrame({ fin: true, rsv: 4, opcode: 1, masked: true, mask: Buffer.alloc(4), lengthField: "min", payload: Buffer.from("a") }) },
      { name: "RSV2", bytes: encodeFrame({ fin: true, rsv: 2, opcode: 1, masked: true, mask: Buffer.alloc(4), lengthField: "min", payload: Buffer.from("a") }) },
      { name: "unmasked", bytes: encodeFrame({ fin: true, rsv: 0, opcode: 1, masked: false, mask: Buffer.alloc(4), lengthField: "min", payload: Buffer.from("a") }) },
      { name: "opcode 3", bytes: plainFrame(0x3, "a") },
      { name: "opcode 11", bytes: plainFrame(0xb, "a") },
      { name: "continuation first", bytes: plainFrame(0x0, "a") },
      { name: "text inside a fragmented message", bytes: Buffer.concat([plainFrame(0x1, "a", false), plainFrame(0x1, "b")]) },
      { name: "fragmented ping", bytes: plainFrame(0x9, "a", false) },
      { name: "ping of 126 bytes", bytes: plainFrame(0x9, Buffer.alloc(126)) },
      { name: "close of 1 byte", bytes: plainFrame(0x8, Buffer.from([3])) },
      { name: "close code 1005", bytes: plainFrame(0x8, closeFramePayload(1005)) },
      { name: "close reason not UTF-8", bytes: plainFrame(0x8, closeFramePayload(1000, Buffer.from([0xff]))) },
      { name: "text not UTF-8", bytes: plainFrame(0x1, Buffer.from([0x61, 0xc0, 0x80])) },
      { name: "text not UTF-8 across fragments", bytes: Buffer.concat([plainFrame(0x1, Buffer.from([0xe2, 0x82]), false), plainFrame(0x0, Buffer.from([0x41]))]) },
      { name: "message above maxPayload", bytes: plainFrame(0x2, Buffer.alloc(11)), maxPayload: 10 },
      { name: "fragments adding up above maxPayload", bytes: Buffer.concat([plainFrame(0x2, Buffer.alloc(6), false), plainFrame(0x0, Buffer.alloc(5))]), maxPayload: 10 },
      { name: "length past 2^53 - 1", bytes: encodeFrame({ fin: true, rsv: 0, opcode: 2, masked: true, mask: Buffer.alloc(4), lengthField: "64", payload: Buffer.alloc(0), declared: 2n ** 53n }) },
    ];
    for (const c of cases) {
      const volley = readWithVolley([c.bytes], c.maxPayload ?? 1000);
      const ws = readWithWs([c.bytes], c.maxPayload ?? 1000);
      assert.deepEqual(volley.outcomes, ws.outcomes, c.name);
      assert.ok(ws.error, c.name);
      assert.equal(volley.errors.length, 1, c.name);
      assert.equal(volley.errors[0].code, ws.error.code, c.name);
      assert.equal(volley.errors[0].message, ws.error.message, c.name);
      assert.ok(volley.errors[0] instanceof WebSocketFrameError);
    }
  });

  // ws refuses a control frame by its 7-bit length field (126 or 127 means "above 125")
  // before it reads the extended length; so does FrameReader.
  test("a ping whose short length is given in the 16- or 64-bit field is refused with 1002, as ws does", () => {
    for (const field of ["16", "64"] as const) {
      const bytes = plainFrame(0x9, "hi", true, field);
      const ws = readWithWs([bytes], 1000);
      assert.deepEqual(ws.outcomes, [["error", 1002]], `ws, ${field}-bit field`);
      assert.deepEqual(readWithVolley([bytes], 1000).outcomes, ws.outcomes, `${field}-bit field`);
    }
  });

  test("a ping declaring a length past 2^53 - 1 is refused with 1002, as ws does", () => {
    const bytes = encodeFrame({ fin: true, rsv: 0, opcode: 0x9, masked: true, mask: Buffer.alloc(4), lengthField: "64", payload: Buffer.alloc(0), declared: 2n ** 60n });
    const ws = readWithWs([bytes], 1000);
    assert.deepEqual(ws.outcomes, [["error", 1002]]);
    assert.deepEqual(readWithVolley([bytes], 1000).outcomes, ws.outcomes);
  });
});

describe("FrameReader chunking", () => {
  const stream = Buffer.concat([
    plainFrame(0x1, "héllo wörld ✓ 😀"),
    plainFrame(0x9, "ping!"),
    plainFrame(0x2, filler(300, 7)),
    plainFrame(0x2, filler(20, 3), true, "64"),
    plainFrame(0x1, "frag", false),
    plainFrame(0xa, "pong"),
    plainFrame(0x0, "men", false),
    plainFrame(0x0, "ted"),
    plainFrame(0x1, ""),
    plainFrame(0x8, closeFramePayload(4000, "bye ✓")),
  ]);
  const whole = readWithVolley([stream], 1000).outcomes;

  test("the stream read whole gives the expected outcomes, as ws reads it", () => {
    assert.deepEqual(whole, [
      ["text", "héllo wörld ✓ 😀"],
      ["ping", Buffer.from("ping!").toString("hex")],
      ["binary", digest(filler(300, 7))],
      ["binary", digest(filler(20, 3))],
      ["pong", Buffer.from("pong").toString("hex")],
      ["text", "fragmented"],
      ["text", ""],
      ["close", 4000, "bye ✓"],
    ]);
    assert.deepEqual(readWithWs([stream], 1000).outcomes, whole);
  });

  test("split at every byte boundary, and byte by byte, the outcomes are the same", () => {
    for (let i = 1; i < stream.length; i++) {
      assert.deepEqual(readWithVolley([stream.subarray(0, i), stream.subarray(i)], 1000).outcomes, whole, `cut at ${i}`);
    }
    const bytes: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
    assert.deepEqual(readWithVolley(bytes, 1000).outcomes, whole, "byte by byte");
  });

  test("an empty chunk anywhere changes nothing", () => {
    const empty = Buffer.alloc(0);
    assert.deepEqual(readWithVolley([empty, stream.subarray(0, 5), empty, stream.subarray(5), empty], 1000).outcomes, whole);
  });

  test("a 1 MB binary message in 64 KB chunks arrives once and intact", () => {
    const payload = filler(1 << 20, 99);
    const bytes = plainFrame(0x2, payload);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 64 * 1024) chunks.push(Buffer.from(bytes.subarray(i, i + 64 * 1024)));
    assert.ok(chunks.length >= 16);
    const reader = new Recorder(1 << 20);
    chunks.forEach((chunk, i) => {
      reader.read(chunk);
      if (i < chunks.length - 1) assert.equal(reader.outcomes.length, 0, `nothing before the last chunk (${i})`);
    });
    assert.equal(reader.binaries.length, 1);
    assert.ok(reader.binaries[0].equals(payload), "the payload is intact");
    assert.equal(reader.readingStopped, false);
    // One byte over maxPayload is refused from the header on, before the payload comes.
    const small = new Recorder((1 << 20) - 1);
    small.read(chunks[0]);
    assert.deepEqual(small.outcomes, [["error", 1009]]);
  });

  test("the same 1 MB as 16 fragments with pings between them", () => {
    const payload = filler(1 << 20, 5);
    const frames: Buffer[] = [];
    const size = 64 * 1024;
    for (let i = 0; i < 16; i++) {
      frames.push(plainFrame(i === 0 ? 0x2 : 0x0, payload.subarray(i * size, (i + 1) * size), i === 15));
      if (i < 15) frames.push(plainFrame(0x9, String(i)));
    }
    const bytes = Buffer.concat(frames);
    const reader = new Recorder(1 << 20);
    for (let i = 0; i < bytes.length; i += 50_000) reader.read(Buffer.from(bytes.subarray(i, i + 50_000)));
    assert.equal(reader.binaries.length, 1);
    assert.ok(reader.binaries[0].equals(payload));
    assert.equal(reader.outcomes.filter((o) => o[0] === "ping").length, 15);
    assert.deepEqual(reader.outcomes.at(-1), ["binary", digest(payload)]);
  });

  test("after a close frame or an error, later bytes are ignored", () => {
    const after = plainFrame(0x1, "late");
    const closed = new Recorder(1000);
    closed.read(Buffer.concat([plainFrame(0x8, Buffer.alloc(0)), after]));
    closed.read(after);
    assert.deepEqual(closed.outcomes, [["close", 1005, ""]]);
    assert.equal(closed.readingStopped, true);
    const refused = new Recorder(1000);
    refused.read(Buffer.concat([plainFrame(0x3, "x"), after]));
    refused.read(after);
    assert.deepEqual(refused.outcomes, [["error", 1002]]);
  });

  test("stopReading() drops a frame in progress", () => {
    const reader = new Recorder(1000);
    const bytes = plainFrame(0x1, "abcdef");
    reader.read(bytes.subarray(0, 5));
    reader.stopReading();
    reader.read(bytes.subarray(5));
    assert.deepEqual(reader.outcomes, []);
    assert.equal(reader.readingStopped, true);
  });
});

describe("unmask", () => {
  type MaskModule = typeof import("../../src/engine/websocket/ws-mask");
  const maskPath = require.resolve("../../src/engine/websocket/ws-mask");

  /** A fresh copy of the module, loaded with or without WS_NO_BUFFER_UTIL. */
  function loadMask(jsOnly: boolean): MaskModule {
    const cached = require.cache[maskPath];
    const saved = process.env.WS_NO_BUFFER_UTIL;
    delete require.cache[maskPath];
    if (jsOnly) process.env.WS_NO_BUFFER_UTIL = "1";
    else delete process.env.WS_NO_BUFFER_UTIL;
    try {
      return require(maskPath) as MaskModule;
    } finally {
      if (saved === undefined) delete process.env.WS_NO_BUFFER_UTIL;
      else process.env.WS_NO_BUFFER_UTIL = saved;
      require.cache[maskPath] = cached;
    }
  }

  let hasBufferutil = true;
  try {
    require.resolve("bufferutil");
  } catch {
    hasBufferutil = false;
  }
  const variants: Array<[string, MaskModule]> = [
    ["JavaScript only", loadMask(true)],
    ["with bufferutil when installed", loadMask(false)],
  ];

  test("nativeUnmask says which path is in use", () => {
    assert.equal(variants[0][1].nativeUnmask, false);
    assert.equal(variants[1][1].nativeUnmask, hasBufferutil);
  });

  for (const [name, mod] of variants) {
    test(`${name}: lengths 0..70 and larger, at every alignment, match a plain XOR and touch nothing else`, () => {
      const key = Buffer.from([0xa5, 0x0f, 0xf0, 0x3c]);
      for (const length of [...Array.from({ length: 71 }, (_, i) => i), 127, 1000, 65_537]) {
        for (let lead = 0; lead < 8; lead++) {
          const original = filler(lead + 4 + length + 5, length * 8 + lead + 1);
          const buf = Buffer.from(original);
          const maskOffset = lead;
          const start = lead + 4;
          key.copy(buf, maskOffset);
          const expected = Buffer.from(buf);
          for (let i = 0; i < length; i++) expected[start + i] ^= key[i & 3];
          mod.unmask(buf, maskOffset, start, start + length);
          assert.ok(buf.equals(expected), `length ${length}, lead ${lead}`);
        }
      }
    });

    test(`${name}: the key may lie anywhere in the buffer, and unmasking twice restores the bytes`, () => {
      const original = filler(200, 11);
      const buf = Buffer.from(original);
      mod.unmask(buf, 190, 3, 150);
      const expected = Buffer.from(original);
      for (let i = 0; i < 147; i++) expected[3 + i] ^= original[190 + (i & 3)];
      assert.ok(buf.equals(expected));
      mod.unmask(buf, 190, 3, 150);
      assert.ok(buf.equals(original));
    });
  }
});

describe("close codes", () => {
  test("isValidCloseCode agrees with ws over 0..65535", () => {
    const { isValidStatusCode } = require(join(wsLib, "validation.js")) as { isValidStatusCode(code: number): boolean };
    for (let code = 0; code <= 0xffff; code++) assert.equal(isValidCloseCode(code), isValidStatusCode(code), String(code));
  });
});

// ---- the opening handshake ----

describe("handshake", () => {
  test("acceptKey: RFC 6455's sample key", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("firstProtocol: a table", () => {
    const table: Array<[string, string | undefined]> = [
      ["a", "a"],
      ["a, b", "a"],
      ["a,b", "a"],
      ["a ,\tb", "a"],
      ["chat, superchat", "chat"],
      ["!#$%&'*+-.^_`|~09AZaz", "!#$%&'*+-.^_`|~09AZaz"],
      ["", undefined],
      [",", undefined],
      ["a,", undefined],
      [",a", undefined],
      ["a,,b", undefined],
      ["a, a", undefined],
      ["a, b, a", undefined],
      ["a b", undefined],
      ["a/b", undefined],
      ['"a"', undefined],
      ["a;b", undefined],
      ["a\u00e9", undefined],
      ["a\u0000", undefined],
    ];
    for (const [header, expected] of table) assert.equal(firstProtocol(header), expected, JSON.stringify(header));
  });

  /** ws's answer: the first protocol of its parsed set, or undefined when it throws. */
  function wsFirst(header: string): string | undefined {
    try {
      return wsSubprotocol.parse(header).values().next().value;
    } catch {
      return undefined;
    }
  }

  test("firstProtocol agrees with ws's parser on random headers as Node delivers them (trimmed)", () => {
    const alphabet = fc.constantFrom("a", "b", "c", ",", ",", " ", " ", "\t", '"', "/", "é", "-", "ab");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), (parts) => {
        // Node's HTTP parser strips the whitespace around a header value.
        const header = parts.join("").replace(/^[ \t]+|[ \t]+$/g, "");
        assert.equal(firstProtocol(header), wsFirst(header), JSON.stringify(header));
      }),
      { numRuns: 2000 },
    );
  });

  // ---- checkUpgradeRequest against ws's handleUpgrade, on an in-memory socket ----

  /** A socket that keeps what is written to it. */
  class MemorySocket extends Duplex {
    readonly written: Buffer[] = [];
    override _read(): void {}
    override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
      this.written.push(Buffer.from(chunk));
      cb();
    }
    text(): string {
      return Buffer.concat(this.written).toString("latin1");
    }
  }

  interface UpgradeCase {
    name: string;
    method?: string;
    headers: Record<string, string>;
  }

  const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  const good = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": KEY, "sec-websocket-version": "13" };
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
  const cases: UpgradeCase[] = [
    { name: "a valid request", headers: good },
    { name: "Upgrade in another case", headers: { ...good, upgrade: "WebSocket" } },
    { name: "version 8", headers: { ...good, "sec-websocket-version": "8" } },
    { name: "a protocol list", headers: { ...good, "sec-websocket-protocol": "a, b" } },
    { name: "POST", method: "POST", headers: good },
    { name: "no Upgrade", headers: without("upgrade") },
    { name: "Upgrade: h2c", headers: { ...good, upgrade: "h2c" } },
    { name: "no key", headers: without("sec-websocket-key") },
    { name: "a short key", headers: { ...good, "sec-websocket-key": "abc" } },
    { name: "a key of 16 bytes without ==", headers: { ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" } },
    { name: "a key with a bad character", headers: { ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZ-==" } },
    { name: "no version", headers: without("sec-websocket-version") },
    { name: "version 12", headers: { ...good, "sec-websocket-version": "12" } },
    { name: "version 13.0", headers: { ...good, "sec-websocket-version": "13.0" } },
    { name: "version abc", headers: { ...good, "sec-websocket-version": "abc" } },
    { name: "an empty protocol list", headers: { ...good, "sec-websocket-protocol": "" } },
    { name: "a protocol given twice", headers: { ...good, "sec-websocket-protocol": "a, a" } },
    { name: "a protocol with a bad character", headers: { ...good, "sec-websocket-protocol": "a/b" } },
  ];

  function fakeRequest(c: UpgradeCase): IncomingMessage {
    return { method: c.method ?? "GET", url: "/", headers: { host: "127.0.0.1", ...c.headers } } as unknown as IncomingMessage;
  }

  /** What a `ws` server writes for the request: a refusal, or the 101 head. */
  function wsAnswer(c: UpgradeCase): { status: number; head: string; body: string } {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const socket = new MemorySocket();
    let accepted: WebSocket | undefined;
    try {
      wss.handleUpgrade(fakeRequest(c), socket, Buffer.alloc(0), (ws) => (accepted = ws));
      const text = socket.text();
      const end = text.indexOf("\r\n\r\n");
      return { status: Number(text.split(" ")[1]), head: text.slice(0, end + 4), body: text.slice(end + 4) };
    } finally {
      accepted?.terminate();
      socket.destroy();
      wss.close();
    }
  }

  for (const c of cases) {
    test(`checkUpgradeRequest, ${c.name}: as ws answers`, () => {
      const ours = checkUpgradeRequest(fakeRequest(c));
      const theirs = wsAnswer(c);
      if ("status" in ours) {
        assert.equal(ours.status, theirs.status);
        assert.equal(ours.message, theirs.body);
        return;
      }
      assert.equal(theirs.status, 101, theirs.head);
      assert.equal(ours.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      // With no extra lines, the whole 101 head is byte for byte the one ws writes.
      assert.equal(switchingProtocolsHead(ours, []), theirs.head);
    });
  }

  test("checkUpgradeRequest: the statuses and messages", () => {
    const table: Array<[string, number, string, string[]?]> = [
      ["POST", 405, "Invalid HTTP method"],
      ["no Upgrade", 400, "Invalid Upgrade header"],
      ["no key", 400, "Missing or invalid Sec-WebSocket-Key header"],
      ["version 12", 400, "Missing or invalid Sec-WebSocket-Version header", ["Sec-WebSocket-Version: 13, 8"]],
      ["a protocol given twice", 400, "Invalid Sec-WebSocket-Protocol header"],
    ];
    for (const [name, status, message, headerLines] of table) {
      const c = cases.find((x) => x.name === name)!;
      const expected = headerLines ? { status, message, headerLines } : { status, message };
      assert.deepEqual(checkUpgradeRequest(fakeRequest(c)), expected, name);
    }
    const ok = checkUpgradeRequest(fakeRequest(cases.find((x) => x.name === "a protocol list")!));
    assert.deepEqual(ok, { accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", protocol: "a" });
  });

  test("switchingProtocolsHead: the protocol line, then extra lines, then the blank line", () => {
    assert.equal(
      switchingProtocolsHead({ accept: "x=", protocol: "chat" }, ["Set-Cookie: io=1", "X-A: b"]),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x=\r\nSec-WebSocket-Protocol: chat\r\nSet-Cookie: io=1\r\nX-A: b\r\n\r\n",
    );
  });
});
