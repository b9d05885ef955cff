/**
 * Property-based fuzzing of the pure Engine.IO codecs with fast-check. The official codecs
 * (engine.io-parser, engine.io's revision 3 parser and JSONP transport, `accepts`, `ws`) are
 * the reference wherever their behaviour is the contract. Run counts are bounded so that the
 * whole file takes a few seconds; a failure prints the seed and the shrunk counterexample.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  PARSE_ERROR,
  SEPARATOR,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type BinaryData,
  type DecodedPacket,
  type Packet,
  type PacketType,
} from "../../src/engine/packet";
import { decodePacketV3, decodePayloadV3, encodePacketV3, encodePayloadV3 } from "../../src/engine/payload-v3";
import { encodeFrame, frameHeaderSize, writeFrameHeader } from "../../src/engine/websocket/ws-frame";
import { parseQuery } from "../../src/engine/query";
import { chooseEncoding } from "../../src/internal/accept-encoding";
import { unescapeNewlines } from "../../src/engine/transports/jsonp";
import {
  PACKET_TYPE_NAMES,
  WsReceiverClass,
  refChooseEncoding,
  refDecodePayload,
  refDecodePayloadV3,
  refEncodePacket,
  refEncodePacketV3,
  refEncodePayload,
  refEncodePayloadV3,
  refJsonpPayload,
  wsFrame,
  wsFrameHeader,
} from "./codec-reference";

const RUNS = 300;
/** FUZZ_SCALE=100 runs every property 100 times longer, for a deep run by hand. */
const SCALE = Number(process.env.FUZZ_SCALE) || 1;
const check = <T>(prop: fc.IProperty<T>, numRuns = RUNS): void => fc.assert(prop, { numRuns: Math.ceil(numRuns * SCALE) });

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Characters that mean something to one of the formats, plus awkward Unicode. */
const formatChar = fc.constantFrom("0", "1", "4", "6", "9", ":", "b", "A", "Q", "=", "/", "+", "\x1e", "é", "😀", "\ud800", "\udfff");

const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 24 }), // whole code points, astral ones too
  fc.string({ unit: codeUnit, maxLength: 24 }),
  fc.string({ unit: formatChar, maxLength: 24 }),
);

const packetType = fc.constantFrom(...PACKET_TYPE_NAMES);
const bytes = fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a));

/** Binary data in every shape an application may send: Buffer, offset view, ArrayBuffer. */
const binaryData: fc.Arbitrary<BinaryData> = fc.oneof(
  bytes,
  fc.tuple(fc.uint8Array({ maxLength: 48 }), fc.nat(3)).map(([a, skip]) => new Uint8Array([...a, 7, 7, 7]).subarray(Math.min(skip, a.length), a.length)),
  fc.uint8Array({ maxLength: 48 }).map((a) => new Uint8Array(a).buffer),
);

const textPacket = (data: fc.Arbitrary<string> = anyString): fc.Arbitrary<Packet> =>
  fc.record({ type: packetType, data: fc.option(data, { nil: undefined }) }).map(({ type, data }) => (data === undefined ? { type } : { type, data }));
/** Revision 4 binary is always a message. */
const binaryPacketV4: fc.Arbitrary<Packet> = binaryData.map((data) => ({ type: "message" as const, data }));
/** Revision 3 binary carries any type. */
const binaryPacketV3: fc.Arbitrary<Packet> = fc.record({ type: packetType, data: binaryData });

const noSeparator = anyString.map((s) => s.split(SEPARATOR).join(""));
const packetV4 = fc.oneof(textPacket(), binaryPacketV4);
const payloadPacketV4 = fc.oneof(textPacket(noSeparator), binaryPacketV4);
const packetV3 = fc.oneof(textPacket(), binaryPacketV3);

/** A few random edits (delete, insert, replace) of a valid encoding: inputs near the grammar. */
function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom("del", "ins", "set"), ch: fc.oneof(formatChar, codeUnit) });
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
    for (const { at, op, ch } of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + (op === "ins" ? 1 : 0));
      s = s.slice(0, i) + (op === "del" ? "" : ch) + s.slice(op === "ins" ? i : i + 1);
    }
    return s;
  });
}

function mutatedBytes(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const edit = fc.record({
    at: fc.nat(),
    op: fc.constantFrom("del", "ins", "set"),
    b: fc.oneof(fc.constantFrom(0, 1, 2, 4, 9, 10, 0x34, 0xff), fc.integer({ min: 0, max: 255 })),
  });
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([buf, edits]) => {
    const a = [...buf];
    for (const { at, op, b } of edits) {
      const i = a.length === 0 ? 0 : at % (a.length + (op === "ins" ? 1 : 0));
      if (op === "del") a.splice(i, 1);
      else if (op === "ins") a.splice(i, 0, b);
      else a[i] = b;
    }
    return Buffer.from(a);
  });
}

const payloadListV4 = fc.array(payloadPacketV4, { minLength: 1, maxLength: 6 });
const payloadListV3 = fc.array(packetV3, { maxLength: 6 });
const binaryPayloadV3 = payloadListV3.map((list) => encodePayloadV3(list, true)).filter((p): p is Buffer => Buffer.isBuffer(p));

const fuzzPayloadV4 = fc.oneof(anyString, payloadListV4.map(encodePayload), mutated(payloadListV4.map(encodePayload)));
const fuzzTextPayloadV3 = fc.oneof(
  anyString,
  payloadListV3.map((l) => encodePayloadV3(l, false) as string),
  mutated(payloadListV3.map((l) => encodePayloadV3(l, false) as string)),
);
const fuzzBinaryPayloadV3 = fc.oneof(bytes, binaryPayloadV3, mutatedBytes(binaryPayloadV3));

// ---------------------------------------------------------------------------------------------
// Expectations

/** Bytes of any binary shape as a Buffer (a copy, so that comparisons see only the bytes). */
function bytesOf(data: BinaryData): Buffer {
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * What decoding the encoding of `packet` must give: text stays text (an empty string is
 * indistinguishable from no data, as in the official parser), binary becomes a Buffer.
 * `utf8` applies the limitation of UTF-8 records: lone surrogates become U+FFFD.
 */
function expected(packet: Packet, utf8 = false): DecodedPacket {
  const { type, data } = packet;
  if (data === undefined || data === "") return { type };
  if (typeof data === "string") return { type, data: utf8 ? Buffer.from(data, "utf8").toString("utf8") : data };
  return { type, data: bytesOf(data) };
}

/** A Buffer's bytes and a string as is: what deepEqual should see of an encoding. */
function wire(x: unknown): string | number[] {
  if (typeof x === "string") return x;
  if (x instanceof ArrayBuffer) return [...new Uint8Array(x)];
  const view = x as ArrayBufferView;
  return [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];
}

function isValidPacket(p: DecodedPacket): boolean {
  if (!(PACKET_TYPE_NAMES as readonly PacketType[]).includes(p.type)) return false;
  if (Object.keys(p).some((k) => k !== "type" && k !== "data")) return false;
  return p.data === undefined || typeof p.data === "string" || Buffer.isBuffer(p.data);
}

/** Valid packets, optionally ended by the parse error, which appears nowhere else. */
function assertPacketList(list: DecodedPacket[]): void {
  assert.ok(Array.isArray(list));
  list.forEach((p, i) => {
    if (p === PARSE_ERROR) assert.equal(i, list.length - 1, "parse error before the end");
    else assert.ok(isValidPacket(p), `invalid packet ${JSON.stringify(p)}`);
  });
}

const ends = (list: DecodedPacket[]): boolean => list.length > 0 && list[list.length - 1] === PARSE_ERROR;

/**
 * decodePayload gives what engine.io-parser gives, except that we refuse base64 that
 * Buffer.from() would decode leniently (`b0`, `b!!`): there we end with the parse error.
 */
function assertDecodesLikeReference(payload: string): void {
  const ours = decodePayload(payload);
  const ref = refDecodePayload(payload);
  if (!ends(ours)) return assert.deepEqual(ours, ref);
  const k = ours.length - 1;
  assert.deepEqual(ours.slice(0, k), ref.slice(0, k));
  if (ref[k].type !== "error") assert.ok(payload.split(SEPARATOR)[k].startsWith("b"), JSON.stringify(payload));
}

// ---------------------------------------------------------------------------------------------

describe("decoders never throw on arbitrary input", () => {
  test("decodePacket / decodePacketV3: a valid packet or the parse error", () => {
    check(
      fc.property(fc.oneof(anyString, bytes, mutated(packetV4.map((p) => String(encodePacket(p, false))))), (input) => {
        const p4 = decodePacket(input);
        assert.ok(p4 === PARSE_ERROR || isValidPacket(p4));
        const p3 = decodePacketV3(input);
        assert.ok(p3 === PARSE_ERROR || isValidPacket(p3));
      }),
    );
  });

  test("decodePayload: valid packets, possibly ended by the parse error", () => {
    check(
      fc.property(fuzzPayloadV4, (payload) => {
        const list = decodePayload(payload);
        assert.ok(list.length >= 1);
        assertPacketList(list);
      }),
    );
  });

  test("decodePayloadV3 (text and binary): valid packets, possibly ended by the parse error", () => {
    check(fc.property(fuzzTextPayloadV3, (payload) => assertPacketList(decodePayloadV3(payload))));
    check(fc.property(fuzzBinaryPayloadV3, (payload) => assertPacketList(decodePayloadV3(payload))));
  });
});

describe("decoders agree with the official ones", () => {
  test("decodePayload equals engine.io-parser's, except that bad base64 is an error", () => {
    check(fc.property(fuzzPayloadV4, assertDecodesLikeReference));
  });

  test("what decodePayloadV3 accepts as text, engine.io decodes the same", () => {
    check(
      fc.property(fuzzTextPayloadV3, (payload) => {
        const ours = decodePayloadV3(payload);
        if (!ends(ours)) assert.deepEqual(ours, refDecodePayloadV3(payload));
      }),
    );
  });

  test("what decodePayloadV3 accepts as binary, engine.io decodes the same (valid UTF-8 records)", () => {
    check(
      fc.property(fuzzBinaryPayloadV3, (payload) => {
        const ours = decodePayloadV3(payload);
        // Invalid UTF-8 in a text record: we substitute U+FFFD, engine.io may refuse it.
        const lossy = ours.some((p) => typeof p.data === "string" && p.data.includes("\ufffd"));
        if (ends(ours) || lossy) return;
        const ref = refDecodePayloadV3(payload);
        assert.deepEqual(ours, ref);
      }),
    );
  });
});

describe("round trips", () => {
  test("revision 4 packet, with and without binary support", () => {
    check(
      fc.property(packetV4, fc.boolean(), (packet, supportsBinary) => {
        assert.deepEqual(decodePacket(encodePacket(packet, supportsBinary)), expected(packet));
      }),
    );
  });

  test("revision 4 payload (text data without \\x1e, the documented limitation)", () => {
    check(
      fc.property(payloadListV4, (list) => {
        assert.deepEqual(decodePayload(encodePayload(list)), list.map((p) => expected(p)));
      }),
    );
  });

  test("revision 3 packet, with and without binary support", () => {
    check(
      fc.property(packetV3, fc.boolean(), (packet, supportsBinary) => {
        assert.deepEqual(decodePacketV3(encodePacketV3(packet, supportsBinary)), expected(packet));
      }),
    );
  });

  test("revision 3 payload, with and without binary support", () => {
    check(
      fc.property(payloadListV3, fc.boolean(), (list, supportsBinary) => {
        const encoded = encodePayloadV3(list, supportsBinary);
        // Binary payloads carry text as UTF-8, which has no lone surrogates (engine.io alike).
        const utf8 = Buffer.isBuffer(encoded);
        assert.equal(utf8, supportsBinary && list.some((p) => typeof p.data !== "string" && p.data !== undefined));
        assert.deepEqual(decodePayloadV3(encoded), list.map((p) => expected(p, utf8)));
      }),
    );
  });
});

describe("encoders equal the official ones", () => {
  test("encodePacket and encodePayload equal engine.io-parser's", () => {
    check(
      fc.property(packetV4, fc.boolean(), (packet, supportsBinary) => {
        assert.deepEqual(wire(encodePacket(packet, supportsBinary)), wire(refEncodePacket(packet, supportsBinary)));
      }),
    );
    // Any text here, \x1e included: both produce the same (ambiguous) payload.
    check(
      fc.property(fc.array(packetV4, { minLength: 1, maxLength: 6 }), (list) => {
        const payload = encodePayload(list);
        assert.equal(payload, refEncodePayload(list));
        assertDecodesLikeReference(payload);
      }),
    );
  });

  test("encodePacketV3 and encodePayloadV3 equal engine.io's revision 3 parser", () => {
    check(
      fc.property(packetV3, fc.boolean(), (packet, supportsBinary) => {
        assert.deepEqual(wire(encodePacketV3(packet, supportsBinary)), wire(refEncodePacketV3(packet, supportsBinary)));
      }),
    );
    check(
      fc.property(payloadListV3, fc.boolean(), (list, supportsBinary) => {
        assert.deepEqual(wire(encodePayloadV3(list, supportsBinary)), wire(refEncodePayloadV3(list, supportsBinary)));
      }),
    );
  });

  test("every length prefix of a revision 3 text payload is its packet's .length", () => {
    check(
      fc.property(payloadListV3, (list) => {
        const payload = encodePayloadV3(list, false);
        assert.equal(typeof payload, "string");
        if (list.length === 0) return assert.equal(payload, "0:");
        let i = 0;
        for (const packet of list) {
          const packetText = encodePacketV3(packet, false) as string;
          const colon = (payload as string).indexOf(":", i);
          assert.equal((payload as string).slice(i, colon), String(packetText.length));
          assert.equal((payload as string).slice(colon + 1, colon + 1 + packetText.length), packetText);
          i = colon + 1 + packetText.length;
        }
        assert.equal(i, (payload as string).length);
      }),
    );
  });
});

describe("WebSocket frames equal ws's", () => {
  const opcode = fc.constantFrom(0x1, 0x2, 0x8, 0x9, 0xa);

  test("headers for any length up to 2^48", () => {
    const length = fc.oneof(fc.nat(300), fc.integer({ min: 65000, max: 66000 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }));
    check(
      fc.property(opcode, length, (op, len) => {
        const header = Buffer.alloc(frameHeaderSize(len));
        assert.equal(writeFrameHeader(header, 0, op, len), header.length);
        assert.deepEqual(header, wsFrameHeader(op, len));
      }),
      1000,
    );
  });

  test("whole frames, read back by a ws Receiver", () => {
    const payload = fc.oneof(bytes, fc.integer({ min: 100, max: 70000 }).map((n) => Buffer.alloc(n, n & 0xff)));
    check(
      fc.property(fc.array(fc.tuple(fc.boolean(), payload), { minLength: 1, maxLength: 4 }), (frames) => {
        const received: Array<[Buffer, boolean]> = [];
        const receiver = new WsReceiverClass({ isServer: false });
        receiver.on("message", (data, isBinary) => received.push([Buffer.from(data), isBinary]));
        let error: Error | undefined;
        receiver.on("error", (err) => (error = err));
        for (const [binary, data] of frames) {
          // Text frames must be valid UTF-8 for the receiver; use the bytes' hex then.
          const body = binary ? data : Buffer.from(data.toString("hex"));
          const frame = encodeFrame(binary ? 0x2 : 0x1, body);
          assert.deepEqual(frame, wsFrame(binary ? 0x2 : 0x1, body));
          receiver.write(frame);
        }
        assert.equal(error, undefined);
        assert.deepEqual(
          received,
          frames.map(([binary, data]) => [binary ? data : Buffer.from(data.toString("hex")), binary]),
        );
      }),
      60,
    );
  });
});

describe("HTTP helpers agree with the official behaviour", () => {
  test("chooseEncoding equals accepts for well-formed Accept-Encoding headers (engine and bundle lists)", () => {
    const name = fc.constantFrom("gzip", "deflate", "br", "identity", "*", "GZip", "Deflate", "compress", "zstd");
    const q = fc.constantFrom("0", "0.0", "0.001", "0.1", "0.5", "0.50", "0.8", "1", "1.0", "1.000");
    const entry = fc
      .record({ name, q: fc.option(q, { nil: undefined }), extra: fc.constantFrom("", ";level=1", ";a=b;c=d"), extraFirst: fc.boolean(), space: fc.constantFrom("", " ") })
      .map(({ name, q, extra, extraFirst, space }) => {
        const qParam = q === undefined ? "" : `;${space}q=${q}`;
        return space + name + (extraFirst ? extra + qParam : qParam + extra) + space;
      });
    check(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), fc.constantFrom(",", ", "), (entries, sep) => {
        const header = entries.join(sep);
        assert.equal(chooseEncoding(header), refChooseEncoding(header), JSON.stringify(header));
        // The client bundle's list (serve-client) goes through the same function.
        const bundle = ["br", "gzip", "deflate"];
        assert.equal(chooseEncoding(header, bundle), refChooseEncoding(header, bundle), `bundle: ${JSON.stringify(header)}`);
      }),
    );
  });

  test("chooseEncoding never throws on garbage", () => {
    check(
      fc.property(fc.oneof(anyString, fc.string({ unit: fc.constantFrom("g", "z", "i", "p", ",", ";", "q", "=", "*", " ", "0", ".", "1") })), (header) => {
        assert.ok([undefined, "gzip", "deflate"].includes(chooseEncoding(header)));
      }),
    );
  });

  test("parseQuery equals a URL parser's searchParams, as own properties of a plain object", () => {
    // What Node's HTTP parser lets into req.url: printable ASCII (it answers 400 to other bytes).
    const unit = fc.oneof(
      fc.constantFrom("?", "#", "&", "=", "%", "+", "%20", "%zz", "%C3%A9", "%FF", "__proto__", "constructor", "toString", "a", "b", "1", ";", "/"),
      fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    );
    check(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", ".", "-") }), fc.string({ unit, maxLength: 12 }), (pathPart, rest) => {
        const url = `/x${pathPart}${rest}`;
        const query = parseQuery(url);
        assert.equal(Object.getPrototypeOf(query), Object.prototype);
        assert.deepEqual(query, Object.fromEntries(new URL(url, "http://localhost").searchParams), url);
        for (const v of Object.values(query)) assert.equal(typeof v, "string");
      }),
    );
  });

  test("unescapeNewlines equals engine.io's JSONP unescaping", () => {
    check(
      fc.property(fc.string({ unit: fc.constantFrom("\\", "n", "\n", "x", "é", "😀"), maxLength: 16 }), (d) => {
        assert.equal(unescapeNewlines(d), refJsonpPayload(d));
      }),
      500,
    );
  });
});
