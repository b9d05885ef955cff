import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Decoder, Encoder, PacketType, ParserError, RESERVED_EVENTS, isPacketValid, type Packet } from "../../src/parser/index";
import { assertSameAsOfficial, bytesOf, normalize, official, type Chunk } from "./util";

/** Thousands of fast-check runs per test: far longer than the shared per-event bound. */
const FUZZ_TIMEOUT = { timeout: 30_000 };
const RUNS = { numRuns: 400 };

// ---- binary values: every kind, views at an offset into a larger buffer ----

type BinaryKind = "Buffer" | "ArrayBuffer" | "DataView" | "typed";
const TYPED = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

function makeBinary(kind: BinaryKind, ctor: (typeof TYPED)[number], bytes: Uint8Array, pad: number): Buffer | ArrayBuffer | ArrayBufferView {
  const unit = kind === "typed" ? ctor.BYTES_PER_ELEMENT : 1;
  const length = Math.floor(bytes.length / unit);
  const offset = pad * 8; // 8 keeps every view aligned
  const backing = new ArrayBuffer(offset + length * unit + 3);
  new Uint8Array(backing, offset, length * unit).set(bytes.subarray(0, length * unit));
  switch (kind) {
    case "Buffer":
      return Buffer.from(backing, offset, length);
    case "ArrayBuffer":
      return backing.slice(offset, offset + length);
    case "DataView":
      return new DataView(backing, offset, length);
    case "typed":
      return new ctor(backing, offset, length);
  }
}

const binaryArb = fc
  .tuple(
    fc.constantFrom<BinaryKind>("Buffer", "ArrayBuffer", "DataView", "typed"),
    fc.constantFrom(...TYPED),
    fc.uint8Array({ maxLength: 24 }),
    fc.nat({ max: 2 }),
  )
  .map(([kind, ctor, bytes, pad]) => makeBinary(kind, ctor, bytes, pad));

// ---- JSON-like data trees ----

interface TreeOptions {
  binary: boolean;
  /**
   * Keys that need care: "__proto__" (must stay an own property) and "_placeholder" (the
   * wire's marker: a literal `{"_placeholder":true}` next to real binary is ambiguous on
   * the wire, for upstream too, so "all" is only for trees without binary).
   */
  keys: "safe" | "proto" | "all";
  /** Dates, toJSON objects, undefined, sparse arrays: things only the encoder sees. */
  exotic: boolean;
}

function objectOf(entries: Array<[string, unknown]>): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return obj;
}

function treeArb(opts: TreeOptions): fc.Arbitrary<unknown> {
  const leaves: Array<fc.Arbitrary<unknown>> = [
    fc.string({ maxLength: 8 }),
    fc.string({ unit: "binary", maxLength: 4 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  ];
  if (opts.binary) leaves.push(binaryArb, binaryArb);
  if (opts.exotic) {
    leaves.push(
      fc.constant(undefined),
      fc.integer({ min: 0, max: 2 ** 40 }).map((t) => new Date(t)),
      binaryArb.map((b) => ({ toJSON: () => b })),
      binaryArb.map((b) => ({ toJSON: () => ({ wrapped: [b] }) })),
      // The result of toJSON has its own toJSON: both encoders must treat it alike.
      fc.constant({ toJSON: () => ({ toJSON: () => "inner toJSON", k: 1 }) }),
      // A hole: JSON makes it null in both encoders.
      // eslint-disable-next-line no-sparse-arrays
      fc.constant([1, , 3]),
    );
  }
  const safe = fc.string({ maxLength: 5 }).filter((k) => k !== "__proto__" && k !== "_placeholder");
  const keys =
    opts.keys === "all" ? fc.oneof(safe, fc.constantFrom("__proto__", "_placeholder", "num", "constructor"))
    : opts.keys === "proto" ? fc.oneof(safe, fc.constantFrom("__proto__", "num", "constructor"))
    : safe;
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.oneof(...leaves), tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 4 }),
    object: fc.array(fc.tuple(keys, tie("value")), { maxLength: 4 }).map(objectOf),
  }));
  return value;
}

const nspArb = fc.oneof(
  fc.constant("/"),
  fc.string({ unit: "binary", maxLength: 8 }).filter((s) => !s.includes(",")).map((s) => "/" + s),
);
const idArb = fc.option(fc.maxSafeNat(), { nil: undefined });
const eventNameArb = fc.oneof(
  fc.string({ maxLength: 10 }).filter((s) => !RESERVED_EVENTS.has(s)),
  fc.constantFrom("chat", "message", "constructor", "__proto__"),
  fc.integer(),
);

/**
 * Valid packets as an application would send them; binary only where the protocol carries
 * it. `trickyKeys` adds "__proto__" and "_placeholder" keys (socket.io-parser drops an own
 * "__proto__" key from binary packets, so the comparisons with it go without).
 */
function validPacketArb(trickyKeys: boolean): fc.Arbitrary<Packet> {
  const plain = treeArb({ binary: false, keys: trickyKeys ? "all" : "safe", exotic: false });
  const plainBesideBinary = treeArb({ binary: false, keys: trickyKeys ? "proto" : "safe", exotic: false });
  const withBinary = treeArb({ binary: true, keys: trickyKeys ? "proto" : "safe", exotic: false });
  const args = fc.oneof(fc.array(plain, { maxLength: 4 }), fc.array(fc.oneof(plainBesideBinary, withBinary), { maxLength: 4 }));
  const object = fc.array(fc.tuple(fc.string({ maxLength: 5 }).filter((k) => k !== "__proto__"), plain), { maxLength: 4 }).map(objectOf);
  const build = (type: PacketType, nsp: string, id: number | undefined, data: unknown): Packet => {
    const packet: Packet = { type, nsp };
    if (id !== undefined) packet.id = id;
    if (data !== undefined) packet.data = data;
    return packet;
  };
  return fc.oneof(
    fc.tuple(nspArb, idArb, fc.option(object, { nil: undefined })).map(([nsp, id, data]) => build(PacketType.CONNECT, nsp, id, data)),
    fc.tuple(nspArb, idArb).map(([nsp, id]) => build(PacketType.DISCONNECT, nsp, id, undefined)),
    fc
      .tuple(nspArb, idArb, eventNameArb, args)
      .map(([nsp, id, name, args]) => build(PacketType.EVENT, nsp, id, [name, ...args])),
    fc.tuple(nspArb, idArb, args).map(([nsp, id, args]) => build(PacketType.ACK, nsp, id, args)),
    fc.tuple(nspArb, idArb, fc.oneof(fc.string(), object)).map(([nsp, id, data]) => build(PacketType.CONNECT_ERROR, nsp, id, data)),
  );
}

/** What the receiving side should see for `packet`. */
function expected(packet: Packet): Packet {
  const out: Packet = { type: packet.type, nsp: packet.nsp };
  if (packet.id !== undefined) out.id = packet.id;
  if (packet.data !== undefined) out.data = normalize(packet.data);
  return out;
}

function decodeWith(decoder: { add(chunk: never): void; on(event: "decoded", fn: (p: Packet) => void): unknown }, chunks: readonly unknown[]): Packet[] {
  const out: Packet[] = [];
  decoder.on("decoded", (p) => out.push(p));
  for (const chunk of chunks) decoder.add(chunk as never);
  return out;
}

// ---- properties ----

test("fuzz: decode(encode(p)) equals p for valid packets (binary as Buffers)", FUZZ_TIMEOUT, () => {
  fc.assert(
    fc.property(validPacketArb(true), (packet) => {
      assert.ok(isPacketValid(packet));
      const chunks = new Encoder().encode(packet);
      const decoded = decodeWith(new Decoder({ maxAttachments: 1000 }), chunks);
      assert.equal(decoded.length, 1);
      assert.deepStrictEqual(decoded[0], expected(packet));
    }),
    RUNS,
  );
});

test("fuzz: our encoder output equals the official encoder's for arbitrary packets", FUZZ_TIMEOUT, () => {
  const replacers = [undefined, (_key: string, value: unknown) => (typeof value === "number" ? value + 1 : value)];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 }),
      fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), fc.constant("/"), fc.constant("")),
      fc.option(fc.oneof(fc.maxSafeNat(), fc.integer(), fc.double()), { nil: undefined }),
      fc.option(treeArb({ binary: true, keys: "safe", exotic: true }), { nil: undefined }),
      fc.option(fc.nat({ max: 20 }), { nil: undefined }),
      fc.constantFrom(...replacers),
      (type, nsp, id, data, attachments, replacer) => {
        const packet: Packet = { type, nsp };
        if (id !== undefined) packet.id = id;
        if (data !== undefined) packet.data = data;
        if (attachments !== undefined) packet.attachments = attachments;
        assertSameAsOfficial(packet, replacer);
      },
    ),
    RUNS,
  );
});

test("fuzz: our decoder accepts what the official encoder produces, and agrees with the official decoder", FUZZ_TIMEOUT, () => {
  fc.assert(
    fc.property(validPacketArb(false), (packet) => {
      const chunks: unknown[] = new official.Encoder().encode(packet as official.Packet);
      const ours = decodeWith(new Decoder({ maxAttachments: 1000 }), chunks);
      const theirs = decodeWith(new official.Decoder({ maxAttachments: 1000 }) as never, chunks);
      assert.equal(ours.length, 1);
      assert.deepStrictEqual(ours[0], expected(packet));
      assert.deepStrictEqual(ours[0], normalize(theirs[0]) as Packet);
    }),
    RUNS,
  );
});

// ---- hostile input ----

const FRAGMENTS = [
  "0", "1", "2", "3", "4", "5", "6", "7", "9", "-", "/", "/admin", ",", "12", "[", "]", "{", "}", '"', ":", "null", "true",
  '"e"', '"connect"', '"__proto__"', '{"__proto__":{"x":1}}', "9007199254740993", "99999999999999999999",
  '{"_placeholder":true,"num":0}', '{"_placeholder":true,"num":1}', '{"_placeholder":true,"num":"splice"}',
  '{"_placeholder":true,"num":-1}', '{"_placeholder":true,"num":1.5}', '{"_placeholder":true}', "\u0000", "\ud800",
];

/** Small edits of a valid encoding: the inputs most likely to find a gap in the checks. */
const mutatedArb = fc
  .tuple(validPacketArb(true), fc.nat(), fc.constantFrom("delete", "insert", "truncate", "replace"), fc.constantFrom(...FRAGMENTS), fc.nat({ max: 3 }))
  .map(([packet, at, op, fragment, dropOrDup]) => {
    const chunks: unknown[] = new Encoder().encode(packet);
    const head = chunks[0] as string;
    const k = head.length === 0 ? 0 : at % (head.length + 1);
    const edited =
      op === "delete" ? head.slice(0, k) + head.slice(k + 1)
      : op === "insert" ? head.slice(0, k) + fragment + head.slice(k)
      : op === "truncate" ? head.slice(0, k)
      : head.slice(0, k) + fragment + head.slice(k + fragment.length);
    const attachments = chunks.slice(1);
    if (dropOrDup === 1) attachments.pop();
    if (dropOrDup === 2 && attachments.length > 0) attachments.push(attachments[0]);
    return [edited, ...attachments] as Chunk[];
  });

/** Binary headers with (mostly) well-formed text and odd placeholders, then some attachments. */
const placeholderLikeArb = fc.record(
  {
    _placeholder: fc.constantFrom<unknown>(true, true, true, "true", 1, false),
    num: fc.oneof(fc.nat({ max: 4 }), fc.constantFrom<unknown>(-1, 1.5, "splice", "0", null, 1e300, [0])),
  },
  { requiredKeys: ["_placeholder"] },
);
const binaryHeaderArb = fc
  .tuple(
    fc.constantFrom("5", "6"),
    fc.nat({ max: 5 }),
    fc.constantFrom("", "/x,"),
    fc.option(fc.nat({ max: 99 }), { nil: undefined }),
    fc.constantFrom('"e"', "1", '"connect"', "null"),
    fc.array(fc.oneof(placeholderLikeArb, fc.array(placeholderLikeArb, { maxLength: 2 }), fc.record({ k: placeholderLikeArb })), { maxLength: 5 }),
    fc.array(binaryArb as fc.Arbitrary<Chunk>, { maxLength: 6 }),
  )
  .map(([type, count, nsp, id, name, items, attachments]): Chunk[] => {
    const elements: string[] = type === "5" ? [name] : [];
    for (const item of items) elements.push(JSON.stringify(item));
    return [`${type}${count}-${nsp}${id ?? ""}[${elements.join(",")}]`, ...attachments];
  });

const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.tuple(fc.constantFrom("0", "1", "2", "3", "4", "5", "6"), fc.string({ maxLength: 20 })).map(([t, rest]) => t + rest),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 12 }).map((parts) => parts.join("")),
  binaryArb as fc.Arbitrary<Chunk>,
);

/** Well-formed binary packets, sometimes cut short, sometimes followed by a stray chunk. */
const binaryPacketArb = fc
  .tuple(nspArb, idArb, fc.boolean(), fc.array(binaryArb, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.option(chunkArb, { nil: undefined }))
  .map(([nsp, id, isAck, bins, cut, extra]): Chunk[] => {
    const packet: Packet = { type: isAck ? PacketType.ACK : PacketType.EVENT, nsp, data: isAck ? bins : ["bin", { bins }] };
    if (id !== undefined) packet.id = id;
    const chunks: Chunk[] = new Encoder().encode(packet);
    if (cut) chunks.pop();
    if (extra !== undefined) chunks.push(extra);
    return chunks;
  });

const sequenceArb = fc.oneof(
  binaryPacketArb,
  fc.array(chunkArb, { maxLength: 6 }),
  mutatedArb,
  binaryHeaderArb,
  fc.tuple(binaryHeaderArb, binaryHeaderArb).map(([a, b]) => [...a, ...b]),
  fc.tuple(mutatedArb, fc.array(chunkArb, { maxLength: 3 })).map(([a, b]) => [...a, ...b]),
);

test("fuzz: add() only throws ParserErrors and never emits an invalid packet", FUZZ_TIMEOUT, () => {
  fc.assert(
    fc.property(sequenceArb, fc.nat({ max: 12 }), (chunks, maxAttachments) => {
      const decoder = new Decoder({ maxAttachments });
      const emitted: Packet[] = [];
      decoder.on("decoded", (p) => emitted.push(p));
      for (const chunk of chunks) {
        try {
          decoder.add(chunk);
        } catch (err) {
          assert.ok(err instanceof ParserError, `unexpected throw: ${String(err)}`);
          assert.ok(err.message.length > 0);
        }
      }
      for (const packet of emitted) {
        assert.ok(isPacketValid(packet), `invalid packet emitted: ${JSON.stringify(packet)}`);
        assert.ok(packet.type <= PacketType.CONNECT_ERROR);
        assert.equal(Object.hasOwn(packet, "attachments"), false);
        // What we accept, we can send back unchanged.
        const again = decodeWith(new Decoder({ maxAttachments: 100 }), new Encoder().encode(packet));
        assert.deepStrictEqual(normalize(again), normalize([packet]));
      }
    }),
    { numRuns: 1500 },
  );
});

test("fuzz: binary attachments come back as Buffers with the same bytes", FUZZ_TIMEOUT, () => {
  fc.assert(
    fc.property(fc.array(binaryArb, { minLength: 1, maxLength: 10 }), (bins) => {
      const chunks = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["bin", ...bins] });
      assert.equal(chunks.length, bins.length + 1);
      const [packet] = decodeWith(new Decoder(), chunks);
      const args = (packet.data as unknown[]).slice(1);
      args.forEach((arg, i) => {
        assert.ok(Buffer.isBuffer(arg));
        assert.deepStrictEqual(arg, bytesOf(bins[i]));
      });
    }),
    { numRuns: 200 },
  );
});
