/**
 * Example-based tests of the pure Engine.IO codecs, with exact expected encodings. Where the
 * official implementation is at hand (engine.io-parser, engine.io's revision 3 parser and
 * JSONP transport, `accepts`, `ws`), the same input is also checked against it.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  PARSE_ERROR,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type Packet,
} from "../../src/engine/packet";
import { decodePacketV3, decodePayloadV3, encodePacketV3, encodePayloadV3 } from "../../src/engine/payload-v3";
import { OPCODE_BINARY, OPCODE_TEXT, encodeFrame, encodeTextFrame, frameHeaderSize, writeFrameHeader } from "../../src/engine/websocket/ws-frame";
import { parseQuery, queryValue } from "../../src/engine/query";
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

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const ascii = (s: string): number[] => [...Buffer.from(s, "latin1")];

/** A text encoding as is, any binary one (Buffer, view, ArrayBuffer) as its bytes. */
function wireBytes(x: unknown): string | number[] {
  if (typeof x === "string") return x;
  if (x instanceof ArrayBuffer) return [...new Uint8Array(x)];
  const view = x as ArrayBufferView;
  return [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];
}

describe("revision 4 packets", () => {
  test("every type encodes as its digit, with and without data", () => {
    PACKET_TYPE_NAMES.forEach((type, digit) => {
      assert.equal(encodePacket({ type }, false), String(digit));
      assert.equal(encodePacket({ type, data: "probe" }, true), `${digit}probe`);
      assert.deepEqual(decodePacket(String(digit)), { type });
      assert.deepEqual(decodePacket(`${digit}probe`), { type, data: "probe" });
    });
    const open = '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
    assert.equal(encodePacket({ type: "open", data: open }, false), "0" + open);
  });

  test("binary is the raw bytes when the transport carries binary, else b<base64>", () => {
    const buf = bytes(1, 2, 3, 4);
    // The same Buffer, not a copy: broadcasts rely on it.
    assert.equal(encodePacket({ type: "message", data: buf }, true), buf);
    assert.equal(encodePacket({ type: "message", data: buf }, false), "bAQIDBA==");
    assert.equal(encodePacket({ type: "message", data: Buffer.alloc(0) }, false), "b");
    // Typed-array views encode only their window of the underlying memory.
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    assert.deepEqual(encodePacket({ type: "message", data: view }, true), bytes(1, 2, 3));
    assert.equal(encodePacket({ type: "message", data: view }, false), "bAQID");
    assert.equal(encodePacket({ type: "message", data: new Uint16Array([0x0201]).buffer }, false), "bAQI=");
    for (const sb of [true, false]) {
      for (const data of [buf, view, new Uint16Array([0x0201]).buffer, new DataView(buf.buffer, buf.byteOffset + 1, 2)]) {
        const ours = encodePacket({ type: "message", data }, sb);
        const ref = refEncodePacket({ type: "message", data }, sb);
        // engine.io-parser hands a Uint8Array view through as is; compare the bytes.
        assert.deepEqual(wireBytes(ours), wireBytes(ref));
      }
    }
  });

  test("decodes binary frames and b<base64> as messages holding a Buffer", () => {
    assert.deepEqual(decodePacket(bytes(1, 2, 3)), { type: "message", data: bytes(1, 2, 3) });
    assert.deepEqual(decodePacket("bAQIDBA=="), { type: "message", data: bytes(1, 2, 3, 4) });
    assert.deepEqual(decodePacket("bAQIDBA"), { type: "message", data: bytes(1, 2, 3, 4) });
    assert.deepEqual(decodePacket("b"), { type: "message", data: Buffer.alloc(0) });
  });

  test("bad packets are the parse-error packet", () => {
    for (const bad of ["", "7", "9hello", "x", "-1", "error", " 4"]) assert.equal(decodePacket(bad), PARSE_ERROR, bad);
    // Stricter than engine.io-parser, which lets Buffer.from() skip garbage in base64.
    for (const bad of ["b!!!!", "bAQ=ID", "bA", "bAQIDB", "bAQ-_"]) assert.equal(decodePacket(bad), PARSE_ERROR, bad);
    assert.deepEqual(PARSE_ERROR, { type: "error", data: "parser error" });
  });

  test("a payload joins packets with \\x1e; binary goes as b<base64>", () => {
    const packets: Packet[] = [
      { type: "message", data: "hello" },
      { type: "message", data: "world" },
      { type: "message", data: bytes(1, 2, 3, 4) },
      { type: "ping" },
    ];
    const payload = "4hello\x1e4world\x1ebAQIDBA==\x1e2";
    assert.equal(encodePayload(packets), payload);
    assert.equal(refEncodePayload(packets), payload);
    assert.equal(encodePayload([{ type: "noop" }]), "6");
    assert.deepEqual(decodePayload(payload), [
      { type: "message", data: "hello" },
      { type: "message", data: "world" },
      { type: "message", data: bytes(1, 2, 3, 4) },
      { type: "ping" },
    ]);
    assert.deepEqual(decodePayload("4😀\x1e4é"), [
      { type: "message", data: "😀" },
      { type: "message", data: "é" },
    ]);
  });

  test("a bad payload ends with the parse error, like engine.io-parser", () => {
    const cases: Array<[string, Packet[]]> = [
      ["", [PARSE_ERROR]],
      ["\x1e", [PARSE_ERROR]],
      ["4a\x1e", [{ type: "message", data: "a" }, PARSE_ERROR]],
      ["4a\x1e9\x1e4b", [{ type: "message", data: "a" }, PARSE_ERROR]],
      ["4a\x1e\x1e4b", [{ type: "message", data: "a" }, PARSE_ERROR]],
    ];
    for (const [payload, expected] of cases) {
      assert.deepEqual(decodePayload(payload), expected, JSON.stringify(payload));
      assert.deepEqual(refDecodePayload(payload), expected, JSON.stringify(payload));
    }
  });

  test("limitation: \\x1e inside text data splits the packet, exactly as in engine.io-parser", () => {
    const packets: Packet[] = [{ type: "message", data: "a\x1e4b" }];
    const payload = encodePayload(packets);
    assert.equal(payload, refEncodePayload(packets));
    assert.deepEqual(decodePayload(payload), [
      { type: "message", data: "a" },
      { type: "message", data: "b" },
    ]);
    assert.deepEqual(decodePayload(payload), refDecodePayload(payload));
  });
});

describe("revision 3 packets", () => {
  test("text packets are <digit><data>", () => {
    PACKET_TYPE_NAMES.forEach((type, digit) => {
      assert.equal(encodePacketV3({ type }, true), String(digit));
      assert.equal(encodePacketV3({ type, data: "x" }, false), `${digit}x`);
      assert.deepEqual(decodePacketV3(`${digit}x`), { type, data: "x" });
      assert.deepEqual(decodePacketV3(String(digit)), { type });
    });
  });

  test("binary carries its type: a leading type byte, or b<digit><base64>", () => {
    const data = bytes(1, 2, 3);
    assert.deepEqual(encodePacketV3({ type: "message", data }, true), bytes(4, 1, 2, 3));
    assert.deepEqual(encodePacketV3({ type: "ping", data }, true), bytes(2, 1, 2, 3));
    assert.deepEqual(encodePacketV3({ type: "open", data: Buffer.alloc(0) }, true), bytes(0));
    assert.equal(encodePacketV3({ type: "message", data }, false), "b4AQID");
    assert.equal(encodePacketV3({ type: "pong", data: bytes(1, 2, 3, 4) }, false), "b3AQIDBA==");
    for (const sb of [true, false]) {
      for (const type of PACKET_TYPE_NAMES) {
        assert.deepEqual(encodePacketV3({ type, data }, sb), refEncodePacketV3({ type, data }, sb));
      }
    }
    assert.deepEqual(decodePacketV3(bytes(4, 1, 2, 3)), { type: "message", data: bytes(1, 2, 3) });
    assert.deepEqual(decodePacketV3(bytes(6)), { type: "noop", data: Buffer.alloc(0) });
    assert.deepEqual(decodePacketV3("b4AQID"), { type: "message", data: bytes(1, 2, 3) });
    assert.deepEqual(decodePacketV3("b2AQIDBA=="), { type: "ping", data: bytes(1, 2, 3, 4) });
  });

  test("bad packets are the parse-error packet", () => {
    for (const bad of ["", "7", "x", "b", "b9AQID", "bx", "b4!!!!", "b4AQ=D"]) {
      assert.equal(decodePacketV3(bad), PARSE_ERROR, JSON.stringify(bad));
    }
    for (const bad of [bytes(), bytes(7), bytes(0xff, 1), bytes(52)]) assert.equal(decodePacketV3(bad), PARSE_ERROR);
  });
});

describe("revision 3 text payloads", () => {
  test("<length>:<packet> with the length in UTF-16 code units", () => {
    const cases: Array<[Packet[], string]> = [
      [[{ type: "message", data: "hello" }, { type: "ping", data: "probe" }], "6:4hello6:2probe"],
      [[{ type: "message", data: "😀" }], "3:4😀"], // one astral character is two code units
      [[{ type: "message", data: "é" }], "2:4é"],
      [[{ type: "message", data: "日本語" }], "4:4日本語"],
      [[{ type: "message", data: "a\ud800" }], "3:4a\ud800"], // a lone surrogate is one unit
      [[{ type: "message", data: "1:4x" }], "5:41:4x"],
      [[{ type: "close" }, { type: "noop" }], "1:11:6"],
      [[{ type: "message", data: bytes(1, 2, 3, 4) }], "10:b4AQIDBA=="],
      [[], "0:"],
    ];
    for (const [packets, payload] of cases) {
      for (const sb of [false, true]) {
        if (sb && packets.some((p) => Buffer.isBuffer(p.data))) continue;
        assert.equal(encodePayloadV3(packets, sb), payload);
        assert.equal(refEncodePayloadV3(packets, sb), payload);
      }
      assert.deepEqual(decodePayloadV3(payload), packets, payload);
    }
  });

  test("zero-length records are skipped", () => {
    assert.deepEqual(decodePayloadV3("0:"), []);
    assert.deepEqual(decodePayloadV3("0:1:4"), [{ type: "message" }]);
    assert.deepEqual(decodePayloadV3("1:40:"), [{ type: "message" }]);
  });

  test("malformed payloads end with the parse error", () => {
    const cases: Array<[string, Packet[]]> = [
      ["", [PARSE_ERROR]],
      [":", [PARSE_ERROR]],
      ["x:4", [PARSE_ERROR]],
      ["2:4", [PARSE_ERROR]], // length past the end
      ["1:9", [PARSE_ERROR]], // bad packet type
      ["7:4hello", [PARSE_ERROR]],
      ["2:4a3", [{ type: "message", data: "a" }, PARSE_ERROR]], // trailing garbage
      ["2:4a1:", [{ type: "message", data: "a" }, PARSE_ERROR]],
      ["-1:4", [PARSE_ERROR]],
      ["99999999999:4", [PARSE_ERROR]],
    ];
    for (const [payload, expected] of cases) assert.deepEqual(decodePayloadV3(payload), expected, payload);
  });
});

describe("revision 3 binary payloads", () => {
  test("text records are 0x00 <digits> 0xff <utf8>, binary ones 0x01 <digits> 0xff <type><bytes>", () => {
    const packets: Packet[] = [
      { type: "message", data: "hello" },
      { type: "message", data: bytes(1, 2, 3) },
      { type: "message", data: "é" },
      { type: "message", data: "hello world" },
      { type: "ping", data: bytes(0xff) },
      { type: "noop" },
    ];
    const expected = bytes(
      ...[0x00, 6, 0xff, ...ascii("4hello")],
      ...[0x01, 4, 0xff, 4, 1, 2, 3],
      ...[0x00, 3, 0xff, 0x34, 0xc3, 0xa9], // lengths of text records count UTF-8 bytes
      ...[0x00, 1, 2, 0xff, ...ascii("4hello world")], // 12: one byte per decimal digit
      ...[0x01, 2, 0xff, 2, 0xff],
      ...[0x00, 1, 0xff, ...ascii("6")],
    );
    const encoded = encodePayloadV3(packets, true);
    assert.deepEqual(encoded, expected);
    assert.deepEqual(refEncodePayloadV3(packets, true), expected);
    assert.deepEqual(decodePayloadV3(expected), packets);
    assert.deepEqual(refDecodePayloadV3(expected), packets);
  });

  test("stays text when no packet is binary, or base64 when binary is not supported", () => {
    assert.equal(encodePayloadV3([{ type: "message", data: "a" }], true), "2:4a");
    assert.equal(encodePayloadV3([{ type: "message", data: bytes(1) }], false), "6:b4AQ==");
  });

  test("a lone surrogate becomes U+FFFD in UTF-8 records, as in engine.io", () => {
    const packets: Packet[] = [{ type: "message", data: "a\ud800" }, { type: "message", data: bytes(1) }];
    const encoded = encodePayloadV3(packets, true);
    assert.deepEqual(encoded, refEncodePayloadV3(packets, true));
    assert.deepEqual(decodePayloadV3(encoded), [
      { type: "message", data: "a\ufffd" },
      { type: "message", data: bytes(1) },
    ]);
  });

  test("malformed payloads end with the parse error", () => {
    const ok = [0x00, 2, 0xff, ...ascii("4a")];
    const cases: Buffer[] = [
      bytes(),
      bytes(2, 1, 0xff, 0x34), // record kind neither 0 nor 1
      bytes(0, 0xff), // no length digits
      bytes(0, 1, 0x34), // no 0xff
      bytes(0, 10, 0xff, 0x34), // a "digit" above 9
      bytes(0, 2, 0xff, 0x34), // body past the end
      bytes(0, 1, 0xff, 0x39), // bad packet type in a text record
      bytes(1, 1, 0xff, 9), // bad type byte in a binary record
      bytes(1, 0, 0xff), // empty binary record has no type byte
      bytes(0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xff), // 11 length digits
    ];
    for (const payload of cases) {
      assert.deepEqual(decodePayloadV3(payload), [PARSE_ERROR], payload.toString("hex"));
      assert.deepEqual(decodePayloadV3(Buffer.concat([bytes(...ok), payload.length ? payload : bytes(7)])), [
        { type: "message", data: "a" },
        PARSE_ERROR,
      ]);
    }
  });
});

describe("WebSocket frame headers", () => {
  const lengths = [0, 1, 125, 126, 127, 65535, 65536, 70000, 1 << 20];

  test("exact header bytes at the length boundaries", () => {
    const cases: Array<[number, number, number[]]> = [
      [OPCODE_TEXT, 0, [0x81, 0x00]],
      [OPCODE_TEXT, 125, [0x81, 0x7d]],
      [OPCODE_TEXT, 126, [0x81, 0x7e, 0x00, 0x7e]],
      [OPCODE_BINARY, 65535, [0x82, 0x7e, 0xff, 0xff]],
      [OPCODE_BINARY, 65536, [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]],
      [OPCODE_BINARY, 2 ** 32 + 5, [0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 5]],
      [OPCODE_TEXT, Number.MAX_SAFE_INTEGER, [0x81, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ];
    for (const [opcode, length, expected] of cases) {
      const target = Buffer.alloc(expected.length + 4, 0xee);
      assert.equal(frameHeaderSize(length), expected.length);
      // Writes at the offset, returns the offset after the header, leaves the rest alone.
      assert.equal(writeFrameHeader(target, 2, opcode, length), 2 + expected.length);
      assert.deepEqual(target, bytes(0xee, 0xee, ...expected, 0xee, 0xee), `length ${length}`);
    }
  });

  test("headers equal ws's own Sender.frame for every opcode and length", () => {
    const big = [2 ** 16 + 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 48 - 1];
    for (const opcode of [OPCODE_TEXT, OPCODE_BINARY, 0x8, 0x9, 0xa]) {
      for (const length of [...lengths, ...big]) {
        const header = Buffer.alloc(frameHeaderSize(length));
        writeFrameHeader(header, 0, opcode, length);
        assert.deepEqual(header, wsFrameHeader(opcode, length), `opcode ${opcode} length ${length}`);
      }
    }
  });

  test("text frames built from strings equal ws's (UTF-8 lengths of 1 to 4 bytes per character)", () => {
    for (const length of lengths) {
      for (const unit of ["a", "é", "€", "😀"]) {
        const text = unit.repeat(Math.ceil(length / Buffer.byteLength(unit)));
        const frame = encodeTextFrame(text);
        assert.deepEqual(frame, wsFrame(OPCODE_TEXT, Buffer.from(text)), `${text.length} × ${unit}`);
      }
    }
  });

  test("whole frames equal ws's, and a ws Receiver reads them back", async () => {
    const messages: Array<[Buffer, boolean]> = [];
    const receiver = new WsReceiverClass({ isServer: false });
    receiver.on("message", (data, isBinary) => messages.push([data, isBinary]));
    let error: Error | undefined;
    receiver.on("error", (err) => (error = err));
    const sent: Array<[Buffer, boolean]> = [];
    for (const length of lengths) {
      for (const binary of [false, true]) {
        const payload = Buffer.alloc(length, binary ? 0x80 + (length % 100) : 0x61 + (length % 26));
        const frame = encodeFrame(binary ? OPCODE_BINARY : OPCODE_TEXT, payload);
        assert.deepEqual(frame, wsFrame(binary ? OPCODE_BINARY : OPCODE_TEXT, payload), `length ${length}`);
        receiver.write(frame);
        sent.push([payload, binary]);
      }
    }
    assert.equal(error, undefined);
    assert.equal(messages.length, sent.length);
    messages.forEach(([data, isBinary], i) => {
      assert.equal(isBinary, sent[i][1]);
      assert.ok(Buffer.from(data).equals(sent[i][0]), `message ${i}`);
    });
  });
});

describe("chooseEncoding", () => {
  const cases: Array<[string, "gzip" | "deflate" | undefined]> = [
    ["gzip, deflate, br", "gzip"],
    ["gzip, deflate, br, zstd", "gzip"],
    ["br, deflate", "deflate"],
    ["deflate, gzip", "deflate"], // equal q: the one written first
    ["deflate;q=0.5, gzip;q=0.5", "deflate"],
    ["gzip;q=0.5, deflate", "deflate"],
    ["deflate;q=0.5, gzip;q=0.8", "gzip"],
    ["gzip; q=0.8, deflate;level=1;q=0.9", "deflate"],
    ["gzip;level=1;q=0.2, deflate;q=0.5", "deflate"], // q is not always the first parameter
    ["gzip;q=0.5;foo=bar", "gzip"],
    [" deflate ; q=0.5 ", "deflate"],
    ["GZIP", "gzip"],
    ["*", "gzip"],
    ["*;q=0.5, deflate;q=0.4", "gzip"],
    ["deflate, *", "deflate"], // an exact name beats * at equal q
    ["*, deflate", "deflate"],
    ["*, gzip;q=0", "deflate"], // explicitly refused
    ["*;q=0", undefined],
    ["gzip;q=0", undefined],
    ["gzip;q=0, deflate;q=0", undefined],
    ["identity", undefined],
    ["identity;q=1, *;q=0", undefined],
    ["br", undefined],
    ["x-gzip", undefined],
    ["gzip;q=abc", undefined],
    ["garbage", undefined],
    [";;;,,,", undefined],
    ["", undefined],
  ];

  test("picks like engine.io's accepts for typical and odd headers", () => {
    for (const [header, expected] of cases) {
      assert.equal(chooseEncoding(header), expected, JSON.stringify(header));
      assert.equal(refChooseEncoding(header), expected, `reference: ${JSON.stringify(header)}`);
    }
  });

  test("no header, an array header or an overlong one means no compression", () => {
    assert.equal(chooseEncoding(undefined), undefined);
    assert.equal(chooseEncoding(["gzip"]), undefined);
    assert.equal(chooseEncoding("gzip," + " ".repeat(1100)), undefined);
    // Out-of-range q is treated as refusal (accepts would take deflate;q=1.5 at face value).
    assert.equal(chooseEncoding("deflate;q=1.5"), undefined);
  });
});

describe("parseQuery", () => {
  test("reads the query as own string properties", () => {
    assert.deepEqual(parseQuery("/engine.io/?EIO=4&transport=polling&t=N8hyd6w"), {
      EIO: "4",
      transport: "polling",
      t: "N8hyd6w",
    });
    assert.deepEqual(parseQuery("/engine.io/?a=1+2&b=%20x%C3%A9&c&d=&=e"), { a: "1 2", b: " xé", c: "", d: "", "": "e" });
    assert.deepEqual(parseQuery("/engine.io/"), {});
    assert.deepEqual(parseQuery(undefined), {});
    assert.deepEqual(parseQuery(""), {});
    assert.deepEqual(parseQuery("/?"), {});
  });

  test("a repeated key keeps its last value", () => {
    assert.deepEqual(parseQuery("/?sid=a&EIO=4&sid=b"), { sid: "b", EIO: "4" });
  });

  test("__proto__ and constructor are plain own data, never the prototype", () => {
    const q = parseQuery("/?__proto__=x&constructor=y&hasOwnProperty=z&toString=w");
    assert.equal(Object.getPrototypeOf(q), Object.prototype);
    assert.deepEqual(Object.keys(q), ["__proto__", "constructor", "hasOwnProperty", "toString"]);
    assert.equal(Object.getOwnPropertyDescriptor(q, "__proto__")?.value, "x");
    assert.equal(q.constructor, "y");
    assert.equal(({} as Record<string, unknown>).x, undefined);
    assert.equal(queryValue(q, "__proto__"), "x");
    const plain = parseQuery("/?EIO=4");
    assert.equal(queryValue(plain, "constructor"), undefined);
    assert.equal(queryValue(plain, "__proto__"), undefined);
    assert.equal(queryValue(plain, "EIO"), "4");
  });

  test("a #fragment is not part of the query and a second ? is data, as with a URL parser", () => {
    const cases = ["/engine.io/?EIO=4&x=1#frag?y=2", "/p#a?x=1", "/?EIO=4#", "/?#x=1", "/?a=%23#b", "/??EIO=4"];
    for (const url of cases) {
      assert.deepEqual(parseQuery(url), Object.fromEntries(new URL(url, "http://localhost").searchParams), url);
    }
    assert.deepEqual(parseQuery("/engine.io/?EIO=4&x=1#frag?y=2"), { EIO: "4", x: "1" });
    assert.deepEqual(parseQuery("/engine.io/??EIO=4"), { "?EIO": "4" });
  });
});

describe("JSONP unescapeNewlines", () => {
  // JS-escaped here; the comments show the raw characters.
  const cases: Array<[string, string]> = [
    ["", ""],
    ["4hello", "4hello"],
    ["4a\\nb", "4a\nb"], // a\nb -> newline
    ["4a\\\\nb", "4a\\nb"], // a\\nb -> a\nb (an escaped literal backslash-n)
    ["\\n\\n", "\n\n"],
    ["\\\\n\\n", "\\n\n"],
    ["\\\\\\n", "\\\\n"], // \\\n -> \\n: the pair is read first, the lone backslash stays
    ["x\\", "x\\"], // a trailing backslash stays
    ["\\\\", "\\\\"], // backslashes not before n stay
    ["n\\", "n\\"],
    ["\\x\\n", "\\x\n"],
  ];

  test("undoes the client's escaping like engine.io's JSONP transport", () => {
    for (const [input, expected] of cases) {
      assert.equal(unescapeNewlines(input), expected, JSON.stringify(input));
      assert.equal(refJsonpPayload(input), expected, `reference: ${JSON.stringify(input)}`);
    }
  });
});
