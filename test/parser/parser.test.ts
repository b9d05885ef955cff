import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Decoder,
  Encoder,
  PacketType,
  ParserError,
  ParserErrorCode,
  isPacketValid,
  protocol,
  type Packet,
  type ParserErrorCodeValue,
} from "../../src/parser/index";
import { T } from "../helpers";
import { assertSameAsOfficial, bytesOf, decodeOne, official, type Chunk } from "./util";

/** Each test fails by name at the shared bound instead of at the runner's 60 s. */
const BOUNDED = { timeout: T };
const placeholder = (num: unknown): string => JSON.stringify({ _placeholder: true, num });

describe("parser: constants", () => {
  test("protocol and packet types match socket.io-parser", BOUNDED, () => {
    assert.equal(protocol, 5);
    assert.equal(protocol, official.protocol);
    for (const name of ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"] as const) {
      assert.equal(PacketType[name], official.PacketType[name], name);
    }
  });
});

describe("parser: encoding text packets", () => {
  const cases: Array<[string, Packet, string]> = [
    ["CONNECT to /", { type: PacketType.CONNECT, nsp: "/" }, "0"],
    ["CONNECT with auth", { type: PacketType.CONNECT, nsp: "/admin", data: { token: "abc" } }, '0/admin,{"token":"abc"}'],
    ["CONNECT accepted", { type: PacketType.CONNECT, nsp: "/", data: { sid: "wZX3oN0bSVIhsaknAAAI" } }, '0{"sid":"wZX3oN0bSVIhsaknAAAI"}'],
    ["DISCONNECT", { type: PacketType.DISCONNECT, nsp: "/admin" }, "1/admin,"],
    ["DISCONNECT from /", { type: PacketType.DISCONNECT, nsp: "/" }, "1"],
    ["EVENT", { type: PacketType.EVENT, nsp: "/", data: ["chat", "hi"] }, '2["chat","hi"]'],
    ["EVENT with ack id", { type: PacketType.EVENT, nsp: "/admin", id: 12, data: ["chat", "hi"] }, '2/admin,12["chat","hi"]'],
    ["ACK", { type: PacketType.ACK, nsp: "/admin", id: 12, data: ["ok"] }, '3/admin,12["ok"]'],
    ["ACK with id 0", { type: PacketType.ACK, nsp: "/", id: 0, data: [] }, "30[]"],
    ["CONNECT_ERROR object", { type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized", data: { x: 1 } } }, '4{"message":"Not authorized","data":{"x":1}}'],
    ["CONNECT_ERROR string", { type: PacketType.CONNECT_ERROR, nsp: "/a", data: "nope" }, '4/a,"nope"'],
    ["empty namespace written as /", { type: PacketType.EVENT, nsp: "", data: ["a"] }, '2["a"]'],
    ["null data omitted", { type: PacketType.CONNECT, nsp: "/", data: null }, "0"],
    ["Date serialised by JSON", { type: PacketType.EVENT, nsp: "/", data: ["d", new Date(0)] }, '2["d","1970-01-01T00:00:00.000Z"]'],
  ];
  for (const [name, packet, wire] of cases) {
    test(name, BOUNDED, () => {
      const out = assertSameAsOfficial(packet);
      assert.deepEqual(out, [wire]);
    });
  }

  test("the replacer is applied, like the official encoder", BOUNDED, () => {
    const replacer = (key: string, value: unknown): unknown => (key === "secret" ? undefined : value);
    const out = assertSameAsOfficial({ type: PacketType.EVENT, nsp: "/", data: ["e", { secret: 1, ok: 2 }] }, replacer);
    assert.deepEqual(out, ['2["e",{"ok":2}]']);
  });

  test("the fast path stringifies the payload once", BOUNDED, () => {
    let roots = 0;
    const replacer = function (this: unknown, key: string, value: unknown): unknown {
      if (key === "") roots++;
      return value;
    };
    new Encoder(replacer).encode({ type: PacketType.EVENT, nsp: "/", data: ["e", { a: [1, 2, { b: "c" }] }] });
    assert.equal(roots, 1);
  });
});

/** One instance of every binary kind, each holding the bytes 1..8 (views offset into a larger buffer). */
function binaries(): Array<[string, Buffer | ArrayBuffer | ArrayBufferView]> {
  const backing = new ArrayBuffer(24);
  new Uint8Array(backing).set([9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9]);
  const arrayBuffer = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
  return [
    ["Buffer", Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])],
    ["ArrayBuffer", arrayBuffer],
    ["Buffer slice of a pool", Buffer.from(backing, 8, 8)],
    ["Uint8Array", new Uint8Array(backing, 8, 8)],
    ["Int8Array", new Int8Array(backing, 8, 8)],
    ["Uint8ClampedArray", new Uint8ClampedArray(backing, 8, 8)],
    ["Int16Array", new Int16Array(backing, 8, 4)],
    ["Uint16Array", new Uint16Array(backing, 8, 4)],
    ["Int32Array", new Int32Array(backing, 8, 2)],
    ["Uint32Array", new Uint32Array(backing, 8, 2)],
    ["Float32Array", new Float32Array(backing, 8, 2)],
    ["Float64Array", new Float64Array(backing, 8, 1)],
    ["BigInt64Array", new BigInt64Array(backing, 8, 1)],
    ["BigUint64Array", new BigUint64Array(backing, 8, 1)],
    ["DataView", new DataView(backing, 8, 8)],
  ];
}

const EIGHT = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);

describe("parser: binary packets", () => {
  for (const [name, bin] of binaries()) {
    test(`${name}: encodes like the official encoder, shares memory, round-trips as a Buffer`, BOUNDED, () => {
      const packet: Packet = { type: PacketType.EVENT, nsp: "/", data: ["file", bin] };
      const out = assertSameAsOfficial(packet);
      assert.deepEqual(out, [`51-["file",${placeholder(0)}]`, EIGHT]);
      const attachment = out[1] as Buffer;
      const backing = bin instanceof ArrayBuffer ? bin : (bin as ArrayBufferView).buffer;
      assert.equal(attachment.buffer, backing, "attachment shares the caller's memory");
      if (Buffer.isBuffer(bin)) assert.equal(attachment, bin, "a Buffer is passed through as is");

      const decoded = decodeOne(out);
      assert.deepEqual(decoded, { type: PacketType.EVENT, nsp: "/", data: ["file", EIGHT] });
      assert.ok(Buffer.isBuffer((decoded.data as unknown[])[1]));
    });
  }

  test("every binary kind fed to the decoder as a chunk comes out as a Buffer", BOUNDED, () => {
    for (const [name, bin] of binaries()) {
      const decoded = decodeOne([`51-["file",${placeholder(0)}]`, bin]);
      const got = (decoded.data as unknown[])[1];
      assert.ok(Buffer.isBuffer(got), name);
      assert.deepEqual(got, EIGHT, name);
    }
  });

  test("nested binary is numbered depth-first and restored in place", BOUNDED, () => {
    const a = Buffer.from("a");
    const b = new Uint8Array([98]).buffer;
    const c = new Uint16Array([0x6463]);
    const d = new DataView(new Uint8Array([100]).buffer);
    const data = ["up", { x: a, list: [1, { deep: [b, null, c] }], y: "s" }, [[d]]];
    const out = assertSameAsOfficial({ type: PacketType.EVENT, nsp: "/up", id: 7, data });
    assert.equal(
      out[0],
      `54-/up,7["up",{"x":${placeholder(0)},"list":[1,{"deep":[${placeholder(1)},null,${placeholder(2)}]}],"y":"s"},[[${placeholder(3)}]]]`,
    );
    assert.deepEqual(out.slice(1), [Buffer.from("a"), Buffer.from("b"), Buffer.from("cd"), Buffer.from("d")]);

    const decoded = decodeOne(out);
    assert.deepEqual(decoded, {
      type: PacketType.EVENT,
      nsp: "/up",
      id: 7,
      data: ["up", { x: Buffer.from("a"), list: [1, { deep: [Buffer.from("b"), null, Buffer.from("cd")] }], y: "s" }, [[Buffer.from("d")]]],
    });
  });

  test("ACK with binary becomes BINARY_ACK and decodes back as ACK", BOUNDED, () => {
    const out = assertSameAsOfficial({ type: PacketType.ACK, nsp: "/admin", id: 5, data: [Buffer.from([0xff]), "x"] });
    assert.deepEqual(out, [`61-/admin,5[${placeholder(0)},"x"]`, Buffer.from([0xff])]);
    assert.deepEqual(decodeOne(out), { type: PacketType.ACK, nsp: "/admin", id: 5, data: [Buffer.from([0xff]), "x"] });
  });

  test("toJSON is followed to find binary (and Dates are left to JSON)", BOUNDED, () => {
    const withToJSON = { toJSON: () => ({ inner: Buffer.from("t") }) };
    class Wrapper {
      constructor(readonly payload: Buffer) {}
      toJSON(): unknown {
        return [this.payload, new Date(0)];
      }
    }
    const data = ["e", withToJSON, new Wrapper(Buffer.from("w")), new Date(1000)];
    const out = assertSameAsOfficial({ type: PacketType.EVENT, nsp: "/", data });
    assert.equal(out[0], `52-["e",{"inner":${placeholder(0)}},[${placeholder(1)},"1970-01-01T00:00:00.000Z"],"1970-01-01T00:00:01.000Z"]`);
    assert.deepEqual(out.slice(1), [Buffer.from("t"), Buffer.from("w")]);
  });

  test("a toJSON returning binary is followed even on a Date", BOUNDED, () => {
    const date = Object.assign(new Date(0), { toJSON: () => Buffer.from("d") });
    const out = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["e", date] });
    assert.deepEqual(out, [`51-["e",${placeholder(0)}]`, Buffer.from("d")]);
    // Documented difference: socket.io-parser leaves Dates alone here and announces 0 attachments,
    // a header its own decoder refuses.
    assert.deepEqual(new official.Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["e", date] }), ['50-["e",{"0":100}]']);
  });

  test("the caller's data is not modified (frozen data encodes)", BOUNDED, () => {
    const buf = Buffer.from("z");
    const inner = Object.freeze({ buf, n: 1 });
    const data = Object.freeze(["e", inner, Object.freeze([buf])]);
    const packet = Object.freeze({ type: PacketType.EVENT, nsp: "/", data });
    const out = new Encoder().encode(packet);
    assert.equal(out.length, 3);
    assert.equal(data[1], inner);
    assert.equal(inner.buf, buf);
    assert.deepEqual(Object.keys(packet), ["type", "nsp", "data"]);
  });

  test("binary in non EVENT/ACK types is serialised as JSON, like the official encoder", BOUNDED, () => {
    const out = assertSameAsOfficial({ type: PacketType.CONNECT, nsp: "/", data: { b: Buffer.from([1]) } });
    assert.deepEqual(out, ['0{"b":{"type":"Buffer","data":[1]}}']);
  });

  test("an own __proto__ key is kept in binary packets (the official encoder drops it)", BOUNDED, () => {
    const data = JSON.parse('["e",{"__proto__":{"x":1},"k":2}]') as unknown[];
    (data as unknown[]).push(Buffer.from("b"));
    const out = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data });
    assert.equal(out[0], `51-["e",{"__proto__":{"x":1},"k":2},${placeholder(0)}]`);
    // Documented difference: socket.io-parser assigns the key, which sets the copy's prototype instead.
    assert.equal(new official.Encoder().encode({ type: PacketType.EVENT, nsp: "/", data })[0], `51-["e",{"k":2},${placeholder(0)}]`);
  });
});

describe("parser: decoding", () => {
  const cases: Array<[string, string, Packet]> = [
    ["CONNECT to /", "0", { type: PacketType.CONNECT, nsp: "/" }],
    ["CONNECT with auth", '0/admin,{"token":"abc"}', { type: PacketType.CONNECT, nsp: "/admin", data: { token: "abc" } }],
    ["old client namespace with query", "0/nsp?x=1,", { type: PacketType.CONNECT, nsp: "/nsp?x=1" }],
    ["DISCONNECT", "1/admin,", { type: PacketType.DISCONNECT, nsp: "/admin" }],
    // python-socketio 4 leaves the comma out when nothing follows the namespace.
    ["CONNECT, namespace without comma", "0/admin", { type: PacketType.CONNECT, nsp: "/admin" }],
    ["DISCONNECT, namespace without comma", "1/admin", { type: PacketType.DISCONNECT, nsp: "/admin" }],
    ["EVENT", '2["chat","hi"]', { type: PacketType.EVENT, nsp: "/", data: ["chat", "hi"] }],
    ["EVENT with a number name", "2[1,2]", { type: PacketType.EVENT, nsp: "/", data: [1, 2] }],
    ["EVENT with ack id", '2/admin,12["chat","hi"]', { type: PacketType.EVENT, nsp: "/admin", id: 12, data: ["chat", "hi"] }],
    ["EVENT with the largest safe ack id", '29007199254740991["a"]', { type: PacketType.EVENT, nsp: "/", id: 9007199254740991, data: ["a"] }],
    ["ACK", '3/admin,12["ok"]', { type: PacketType.ACK, nsp: "/admin", id: 12, data: ["ok"] }],
    ["empty ACK", "30[]", { type: PacketType.ACK, nsp: "/", id: 0, data: [] }],
    ["CONNECT_ERROR object", '4{"message":"Not authorized"}', { type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } }],
    ["CONNECT_ERROR string", '4/a,"nope"', { type: PacketType.CONNECT_ERROR, nsp: "/a", data: "nope" }],
    [
      "placeholder-looking objects in a non-binary packet are left alone",
      `2["e",${placeholder(0)},${placeholder("splice")}]`,
      { type: PacketType.EVENT, nsp: "/", data: ["e", { _placeholder: true, num: 0 }, { _placeholder: true, num: "splice" }] },
    ],
  ];
  for (const [name, wire, packet] of cases) {
    test(name, BOUNDED, () => {
      assert.deepEqual(decodeOne(wire), packet);
      // The official decoder agrees on every valid input.
      const theirs: official.Packet[] = [];
      const d = new official.Decoder();
      d.on("decoded", (p) => theirs.push(p));
      d.add(wire);
      assert.deepEqual(theirs, [packet]);
    });
  }

  test("binary EVENT waits for all its attachments", BOUNDED, () => {
    const decoder = new Decoder();
    const got: Packet[] = [];
    decoder.on("decoded", (p) => got.push(p));
    decoder.add(`52-/x,3["e",${placeholder(1)},{"k":${placeholder(0)}}]`);
    decoder.add(Buffer.from("zero"));
    assert.equal(got.length, 0);
    decoder.add(new Uint8Array([111, 110, 101]).buffer);
    assert.deepEqual(got, [{ type: PacketType.EVENT, nsp: "/x", id: 3, data: ["e", Buffer.from("one"), { k: Buffer.from("zero") }] }]);
    // The decoder is ready for the next packet.
    decoder.add('2["next"]');
    assert.equal(got.length, 2);
  });

  test("__proto__ keys become own properties and never touch prototypes", BOUNDED, () => {
    const packet = decodeOne('2["e",{"__proto__":{"polluted":true},"a":1}]');
    const obj = (packet.data as unknown[])[1] as Record<string, unknown>;
    assert.ok(Object.hasOwn(obj, "__proto__"));
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    const bin = decodeOne([`51-["e",{"__proto__":${placeholder(0)}}]`, Buffer.from("p")]);
    const holder = (bin.data as unknown[])[1] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(holder), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(holder, "__proto__")?.value, Buffer.from("p"));
  });

  test("a reviver is passed to JSON.parse (as a function or an option)", BOUNDED, () => {
    const reviver = (key: string, value: unknown): unknown => (key === "n" ? (value as number) * 2 : value);
    assert.deepEqual(decodeOne('2["e",{"n":2}]', { reviver }).data, ["e", { n: 4 }]);
    const decoder = new Decoder(reviver);
    const got: Packet[] = [];
    decoder.on("decoded", (p) => got.push(p));
    decoder.add('2["e",{"n":5}]');
    assert.deepEqual(got[0].data, ["e", { n: 10 }]);
  });

  test("a throwing reviver is an invalid JSON payload", BOUNDED, () => {
    const reviver = (): never => {
      throw "boom"; // not even an Error
    };
    assertRejects(['2["e"]'], ParserErrorCode.INVALID_JSON, /invalid JSON payload: reviver threw/, { reviver });
  });

  test("error messages quote peer values briefly", BOUNDED, () => {
    const long = "x".repeat(5000);
    assertRejects([`51-["e",${placeholder(long)}]`], ParserErrorCode.INVALID_PLACEHOLDER, /^invalid binary placeholder: num "x{39}\.\.\. is not an attachment index$/);
  });

  test("maxAttachments is configurable", BOUNDED, () => {
    const header = `53-["e",${placeholder(0)},${placeholder(1)},${placeholder(2)}]`;
    assertRejects([header], ParserErrorCode.TOO_MANY_ATTACHMENTS, /too many attachments: 3 > 2/, { maxAttachments: 2 });
    const chunks = [header, Buffer.from("a"), Buffer.from("b"), Buffer.from("c")];
    assert.deepEqual(decodeOne(chunks, { maxAttachments: 3 }).data, ["e", Buffer.from("a"), Buffer.from("b"), Buffer.from("c")]);
    const eleven = Array.from({ length: 11 }, (_, i) => placeholder(i)).join(",");
    assertRejects([`511-["e",${eleven}]`], ParserErrorCode.TOO_MANY_ATTACHMENTS, /11 > 10/);
  });

  test("destroy() drops a partial packet", BOUNDED, () => {
    const decoder = new Decoder();
    const got: Packet[] = [];
    decoder.on("decoded", (p) => got.push(p));
    decoder.add(`51-["e",${placeholder(0)}]`);
    decoder.destroy();
    assert.throws(() => decoder.add(Buffer.from("late")), { code: ParserErrorCode.UNEXPECTED_BINARY });
    assert.equal(got.length, 0);
    decoder.add('2["after"]');
    assert.deepEqual(got, [{ type: PacketType.EVENT, nsp: "/", data: ["after"] }]);
  });

  test("text while attachments are awaited is an error, and the partial packet is dropped", BOUNDED, () => {
    const decoder = new Decoder();
    const got: Packet[] = [];
    decoder.on("decoded", (p) => got.push(p));
    decoder.add(`51-["e",${placeholder(0)}]`);
    assert.throws(() => decoder.add('2["x"]'), { name: "ParserError", code: ParserErrorCode.UNEXPECTED_TEXT, message: /plaintext/ });
    assert.throws(() => decoder.add(Buffer.from("b")), { code: ParserErrorCode.UNEXPECTED_BINARY });
    assert.equal(got.length, 0);
  });
});

/** Asserts that the last of `chunks` throws the given ParserError and emits nothing. */
function assertRejects(chunks: readonly Chunk[], code: ParserErrorCodeValue, message: RegExp, opts?: ConstructorParameters<typeof Decoder>[0]): void {
  const decoder = new Decoder(opts);
  let emitted = 0;
  decoder.on("decoded", () => emitted++);
  for (let i = 0; i < chunks.length - 1; i++) decoder.add(chunks[i]);
  const before = emitted;
  assert.throws(
    () => decoder.add(chunks[chunks.length - 1]),
    (err: unknown) => {
      assert.ok(err instanceof ParserError, `expected a ParserError, got ${String(err)}`);
      assert.ok(err instanceof Error);
      assert.equal(err.code, code, `code for ${JSON.stringify(chunks[0])}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    },
  );
  assert.equal(emitted, before, "nothing decoded by the rejected chunk");
}

describe("parser: rejected input", () => {
  const C = ParserErrorCode;
  const bad: Array<[string, Chunk[], ParserErrorCodeValue, RegExp]> = [
    // type
    ["empty message", [""], C.UNKNOWN_TYPE, /unknown packet type: empty message/],
    ["type 7", ["7"], C.UNKNOWN_TYPE, /unknown packet type: "7"/],
    ["type letter", ['a["x"]'], C.UNKNOWN_TYPE, /unknown packet type/],
    ["negative type", ["-1"], C.UNKNOWN_TYPE, /unknown packet type/],
    ["JSON without type", ['["x"]'], C.UNKNOWN_TYPE, /unknown packet type/],
    // attachments
    ["binary without count", ["5"], C.ILLEGAL_ATTACHMENTS, /expected digits/],
    ["binary with empty count", [`5-["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected digits/],
    ["count not digits", [`5a-["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected digits/],
    ["count with a space", [`5 1-["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected digits/],
    ["count without -", [`51["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected '-'/],
    ["count then end", ["61"], C.ILLEGAL_ATTACHMENTS, /expected '-'/],
    ["count with a sign", [`5+1-["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected digits/],
    ["count with a decimal point", [`51.0-["e",${placeholder(0)}]`], C.ILLEGAL_ATTACHMENTS, /expected '-'/],
    ["zero count", ['50-["e"]'], C.ILLEGAL_ATTACHMENTS, /at least 1/],
    ["count above 10", [`511-["e"]`], C.TOO_MANY_ATTACHMENTS, /too many attachments: 11 > 10/],
    ["16-digit count", ["59007199254740993-[]"], C.TOO_MANY_ATTACHMENTS, /too many/],
    ["huge count", [`5${"9".repeat(400)}-["e"]`], C.ILLEGAL_ATTACHMENTS, /too long/],
    // namespace
    // Without a comma the namespace runs to the end (as upstream), leaving these without a payload.
    ["EVENT namespace without comma", ['2/admin["a"]'], C.INVALID_PAYLOAD, /EVENT/],
    ["binary namespace without comma", ["51-/admin"], C.INVALID_PAYLOAD, /BINARY_EVENT/],
    // As upstream, the namespace runs to the first comma, here one inside the JSON.
    ["namespace running into the JSON", [`51-/admin["e",${placeholder(0)}]`], C.INVALID_JSON, /invalid JSON/],
    // ack id
    ["17-digit ack id", ['212345678901234567["a"]'], C.INVALID_ACK_ID, /too long/],
    ["unsafe ack id", ['29007199254740993["a"]'], C.INVALID_ACK_ID, /not a safe integer/],
    ["huge ack id", [`3${"1".repeat(1000)}[]`], C.INVALID_ACK_ID, /invalid ack id/],
    ["ack id then garbage", ['21a["a"]'], C.INVALID_JSON, /invalid JSON payload/],
    ["negative ack id", ['2-1["a"]'], C.INVALID_JSON, /invalid JSON/],
    // JSON
    ["unterminated JSON", ['2["a"'], C.INVALID_JSON, /invalid JSON payload/],
    ["trailing garbage", ['2["a"]x'], C.INVALID_JSON, /invalid JSON/],
    ["two JSON values", ['2["a"]["b"]'], C.INVALID_JSON, /invalid JSON/],
    ["bare word", ["2hello"], C.INVALID_JSON, /invalid JSON/],
    ["binary header with bad JSON", [`51-["e",${placeholder(0)}`], C.INVALID_JSON, /invalid JSON/],
    // payload: CONNECT
    ["CONNECT with an array", ["0[]"], C.INVALID_PAYLOAD, /invalid payload for the packet type: CONNECT/],
    ["CONNECT with a string", ['0"x"'], C.INVALID_PAYLOAD, /CONNECT/],
    ["CONNECT with null", ["0null"], C.INVALID_PAYLOAD, /CONNECT/],
    ["CONNECT with true", ["0true"], C.INVALID_PAYLOAD, /CONNECT/],
    // payload: DISCONNECT
    ["DISCONNECT with an object", ["1{}"], C.INVALID_PAYLOAD, /DISCONNECT/],
    ["DISCONNECT with null", ["1/a,null"], C.INVALID_PAYLOAD, /DISCONNECT/],
    ["DISCONNECT with an array", ['1["a"]'], C.INVALID_PAYLOAD, /DISCONNECT/],
    // payload: CONNECT_ERROR
    ["CONNECT_ERROR without data", ["4"], C.INVALID_PAYLOAD, /CONNECT_ERROR/],
    ["CONNECT_ERROR with an array", ['4["x"]'], C.INVALID_PAYLOAD, /CONNECT_ERROR/],
    ["CONNECT_ERROR with null", ["4null"], C.INVALID_PAYLOAD, /CONNECT_ERROR/],
    ["CONNECT_ERROR with only an id", ["41"], C.INVALID_PAYLOAD, /CONNECT_ERROR/],
    // payload: EVENT
    ["EVENT without data", ["2"], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with only an id", ["2/a,5"], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with an object", ['2{"a":1}'], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with a string", ['2"chat"'], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with an empty array", ["2[]"], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with a null name", ["2[null]"], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with an object name", ['2[{"a":1}]'], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with an array name", ['2[["a"]]'], C.INVALID_PAYLOAD, /EVENT/],
    ["EVENT with a boolean name", ["2[true]"], C.INVALID_PAYLOAD, /EVENT/],
    ...["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].map(
      (name): [string, Chunk[], ParserErrorCodeValue, RegExp] => [`EVENT named ${name}`, [`2["${name}",1]`], C.INVALID_PAYLOAD, /EVENT/],
    ),
    // payload: ACK
    ["ACK without data", ["3/a,1"], C.INVALID_PAYLOAD, /ACK/],
    ["ACK with an object", ['31{"a":1}'], C.INVALID_PAYLOAD, /ACK/],
    ["ACK with a string", ['31"ok"'], C.INVALID_PAYLOAD, /ACK/],
    // payload: binary types
    ["BINARY_EVENT with an object", [`51-{"a":${placeholder(0)}}`], C.INVALID_PAYLOAD, /BINARY_EVENT/],
    ["BINARY_EVENT with a reserved name", [`51-["disconnect",${placeholder(0)}]`], C.INVALID_PAYLOAD, /BINARY_EVENT/],
    ["BINARY_EVENT with a placeholder as name", [`51-[${placeholder(0)}]`], C.INVALID_PAYLOAD, /BINARY_EVENT/],
    ["BINARY_EVENT without data", ["51-"], C.INVALID_PAYLOAD, /BINARY_EVENT/],
    ["BINARY_ACK with a bare placeholder", [`61-1${placeholder(0)}`], C.INVALID_PAYLOAD, /BINARY_ACK/],
    // placeholders
    ['placeholder num "splice"', [`51-["e",${placeholder("splice")}]`], C.INVALID_PLACEHOLDER, /num "splice" is not an attachment index/],
    ["placeholder num -1", [`51-["e",${placeholder(-1)}]`], C.INVALID_PLACEHOLDER, /num -1/],
    ["placeholder num 1.5", [`52-["e",${placeholder(1.5)},${placeholder(0)}]`], C.INVALID_PLACEHOLDER, /num 1.5/],
    ["placeholder num out of range", [`51-["e",${placeholder(1)}]`], C.INVALID_PLACEHOLDER, /num 1 /],
    ["placeholder num far out of range", [`51-["e",${placeholder(1e300)}]`], C.INVALID_PLACEHOLDER, /num 1e\+300/],
    ['placeholder num "0"', [`51-["e",${placeholder("0")}]`], C.INVALID_PLACEHOLDER, /num "0"/],
    ["placeholder num null", [`51-["e",${placeholder(null)}]`], C.INVALID_PLACEHOLDER, /num null/],
    ["placeholder without num", ['51-["e",{"_placeholder":true}]'], C.INVALID_PLACEHOLDER, /num undefined/],
    ["placeholder num as array", [`51-["e",${placeholder([0])}]`], C.INVALID_PLACEHOLDER, /num \[0\]/],
    ["attachment referenced twice", [`52-["e",${placeholder(0)},{"k":${placeholder(0)}}]`], C.INVALID_PLACEHOLDER, /attachment 0 referenced twice/],
    ["attachment unused", [`52-["e",${placeholder(1)}]`], C.INVALID_PLACEHOLDER, /1 of 2 attachments unused/],
    ["no placeholder at all", ['51-["e"]'], C.INVALID_PLACEHOLDER, /1 of 1 attachments unused/],
    ["_placeholder not exactly true", ['51-["e",{"_placeholder":"true","num":0}]'], C.INVALID_PLACEHOLDER, /unused/],
    ["placeholder inside a placeholder", [`52-["e",{"_placeholder":true,"num":0,"x":${placeholder(1)}}]`], C.INVALID_PLACEHOLDER, /unused/],
    // chunk order and kinds
    ["binary when nothing is awaited", [Buffer.from("x")], C.UNEXPECTED_BINARY, /got binary data when not reconstructing/],
    ["ArrayBuffer when nothing is awaited", [new ArrayBuffer(2)], C.UNEXPECTED_BINARY, /binary data/],
    ["extra attachment", [`51-["e",${placeholder(0)}]`, Buffer.from("a"), Buffer.from("b")], C.UNEXPECTED_BINARY, /binary data/],
    ["text while an attachment is awaited", [`51-["e",${placeholder(0)}]`, '2["x"]'], C.UNEXPECTED_TEXT, /plaintext/],
    ["a number chunk", [42 as unknown as Chunk], C.UNKNOWN_CHUNK, /unsupported chunk type.*: number/],
    ["a null chunk", [null as unknown as Chunk], C.UNKNOWN_CHUNK, /unsupported chunk type.*: object/],
    ["a base64 object chunk", [{ base64: true, data: "AA==" } as unknown as Chunk], C.UNKNOWN_CHUNK, /unsupported chunk type/],
  ];
  for (const [name, chunks, code, message] of bad) {
    test(name, BOUNDED, () => assertRejects(chunks, code, message));
  }
});

describe("parser: isPacketValid", () => {
  const cases: Array<[Packet, boolean]> = [
    [{ type: PacketType.CONNECT, nsp: "/" }, true],
    [{ type: PacketType.CONNECT, nsp: "/", data: { a: 1 } }, true],
    [{ type: PacketType.CONNECT, nsp: "/", data: [] }, false],
    [{ type: PacketType.DISCONNECT, nsp: "/" }, true],
    [{ type: PacketType.DISCONNECT, nsp: "/", data: {} }, false],
    [{ type: PacketType.EVENT, nsp: "/", data: ["a"] }, true],
    [{ type: PacketType.EVENT, nsp: "/", data: [3] }, true],
    [{ type: PacketType.EVENT, nsp: "/", data: ["connect"] }, false],
    [{ type: PacketType.EVENT, nsp: "/", data: [] }, false],
    [{ type: PacketType.EVENT, nsp: "/", data: ["a"], id: 1.5 }, false],
    [{ type: PacketType.EVENT, nsp: 1 as unknown as string, data: ["a"] }, false],
    [{ type: PacketType.ACK, nsp: "/", data: [], id: 1 }, true],
    [{ type: PacketType.ACK, nsp: "/", data: {} }, false],
    [{ type: PacketType.CONNECT_ERROR, nsp: "/", data: "x" }, true],
    [{ type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "x" } }, true],
    [{ type: PacketType.CONNECT_ERROR, nsp: "/" }, false],
    [{ type: PacketType.BINARY_EVENT, nsp: "/", data: ["a"] }, false],
    [{ type: PacketType.BINARY_ACK, nsp: "/", data: [] }, false],
    [{ type: 9 as PacketType, nsp: "/" }, false],
  ];
  test("agrees with the official isPacketValid", BOUNDED, () => {
    for (const [packet, valid] of cases) {
      assert.equal(isPacketValid(packet), valid, JSON.stringify(packet));
      assert.equal(official.isPacketValid(packet as official.Packet), valid, `official: ${JSON.stringify(packet)}`);
    }
  });
});

test("parser: bytesOf helper sanity", BOUNDED, () => {
  assert.deepEqual(bytesOf(new Uint16Array([0x0201])), Buffer.from([1, 2]));
});
