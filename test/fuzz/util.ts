/**
 * Shared pieces of the live-server fuzz tests: a Volley Socket.IO server with short
 * timers (so that abandoned sessions end within the run) behind an HTTP server that
 * answers every other path with 404, and arbitraries for Engine.IO / Socket.IO packets.
 */
import { createServer } from "node:http";
import fc from "fast-check";
import type { Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";

/** Scales the number of runs (FUZZ_SCALE=10 for a long local session). */
export const SCALE = Number(process.env.FUZZ_SCALE) || 1;

export const PING_INTERVAL = 100;
export const PING_TIMEOUT = 150;
export const MAX_BUFFER = 10_000;

/** A server as an application would run it: an echo with acks, rooms, a second namespace, recovery. */
export async function startFuzzServer(): Promise<IoFixture> {
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const fx = await startIo(
    {
      pingInterval: PING_INTERVAL,
      pingTimeout: PING_TIMEOUT,
      upgradeTimeout: 300,
      connectTimeout: 500,
      maxHttpBufferSize: MAX_BUFFER,
      allowEIO3: true,
      connectionStateRecovery: { maxDisconnectionDuration: 1000 },
    },
    http,
  );
  const onConnection = (socket: Socket) => {
    void socket.join("room");
    socket.onAny((...args: unknown[]) => {
      const ack = args[args.length - 1];
      if (typeof ack === "function") (ack as (...a: unknown[]) => void)(...args.slice(1, -1));
      else socket.to("room").emit("relay", ...args.slice(1));
    });
  };
  fx.io.on("connection", onConnection);
  fx.io.of("/admin").on("connection", onConnection);
  return fx;
}

// ---- arbitraries ----

const visible = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 24 });
const anyText = fc.oneof(visible, fc.string({ unit: "binary", maxLength: 24 }), fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', ",", ":", "-", "/", "0", "5", "9"), maxLength: 24 }));

const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null");
const eventName = fc.oneof(
  fc.constantFrom('"x"', '"error"', '"connect"', '"disconnect"', '"__proto__"', '"constructor"', "1", "null", '{"toString":"foo"}', "[]"),
  visible.map((s) => JSON.stringify(s)),
);
const nsp = fc.constantFrom("", "/admin,", "/nope,", "/__proto__,", "/,");
const ackId = fc.oneof(fc.constant(""), fc.nat(1000).map(String), fc.constantFrom("99999999999999999999", "-1"));
const placeholder = fc.oneof(fc.nat(3), fc.constantFrom('"splice"', '"toString"', "-1", "1.5", "null")).map((num) => `{"_placeholder":true,"num":${num}}`);

/** A Socket.IO packet as text: mostly well-formed, with hostile parts. */
export const socketIoText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(nsp, ackId, eventName, fc.array(jsonValue, { maxLength: 3 })).map(([n, id, name, args]) => `2${n}${id}[${[name, ...args].join(",")}]`) },
  { weight: 1, arbitrary: fc.tuple(nsp, fc.option(jsonValue, { nil: "" })).map(([n, auth]) => `0${n}${auth}`) },
  { weight: 1, arbitrary: nsp.map((n) => `1${n}`) },
  { weight: 1, arbitrary: fc.tuple(nsp, fc.nat(20), fc.array(jsonValue, { maxLength: 2 })).map(([n, id, args]) => `3${n}${id}[${args.join(",")}]`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("5", "6"), fc.oneof(fc.nat(12).map(String), fc.constantFrom("", "99999999999")), nsp, ackId, eventName, fc.array(placeholder, { maxLength: 3 }))
      .map(([t, count, n, id, name, ph]) => `${t}${count}-${n}${t === "6" && id === "" ? "0" : id}[${(t === "5" ? [name, ...ph] : ph).join(",")}]`),
  },
  { weight: 1, arbitrary: anyText },
);

/** An Engine.IO packet as text (revision 4): a type digit, mostly a message carrying Socket.IO. */
export const engineIoText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: socketIoText.map((p) => "4" + p) },
  { weight: 2, arbitrary: fc.constantFrom("2", "3", "2probe", "3probe", "5", "6", "1", "0", "7", "", "b", "bAAAA", "b!!") },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((a) => "b" + Buffer.from(a).toString("base64")) },
  { weight: 1, arbitrary: anyText },
);

export const bytes = (maxLength = 32): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
