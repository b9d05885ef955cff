/**
 * Bad Socket.IO input over a raw Engine.IO connection (engine.io-client v6 sending packet
 * strings and buffers as they are), one table row per case, over WebSocket and polling.
 * Each row ends in a clean close with the documented reason, or in a connection that still
 * works; never in a crash, a stuck session or prototype pollution. Where socket.io 4.8
 * behaves otherwise, the row says so (measured with the official server).
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { Socket as EioClient } from "engine.io-client";
import type { DisconnectReason, Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { T, once, within } from "../helpers";

type Transport = "websocket" | "polling";
const MAX_BUFFER = 200_000;

/** Everything the server-side socket of one row saw. */
interface Seen {
  socket: Socket;
  /** Every event, through onAny (name first). */
  events: unknown[][];
  /** Arguments of each "x" event. */
  x: unknown[][];
  /** What the "error" listener got, for rows that add one. */
  errors: unknown[];
}

interface Row {
  name: string;
  /** The CONNECT packet that joins "/" (default "0"). */
  join?: string;
  /** Raw messages sent once joined. */
  send: Array<string | Buffer>;
  /** Give the server socket an "error" listener (recording into `errors`). */
  errorListener?: boolean;
  /** The server answers with this packet... */
  reply?: string | RegExp;
  /** The server closes the connection with this reason (or one per transport)... */
  close?: DisconnectReason | Record<Transport, DisconnectReason>;
  /** ...or the connection still works, and this holds. */
  check?: (seen: Seen) => void;
  /** The official server does something else (measured). */
  official?: string;
}

const B = (text: string) => Buffer.from(text);
const placeholder = (num: unknown) => JSON.stringify({ _placeholder: true, num });
const nested = (depth: number, inner: string) => "[".repeat(depth) + inner + "]".repeat(depth);
const DEPTH = 40_000;

function depthOf(value: unknown): number {
  let depth = 0;
  while (Array.isArray(value)) {
    value = value[0];
    depth++;
  }
  return depth;
}

function innermost(value: unknown): unknown {
  while (Array.isArray(value)) value = value[0];
  return value;
}

const noEvents = (seen: Seen) => assert.deepEqual(seen.events, [["probe"]]);

const ROWS: Row[] = [
  // ---- events with a bad payload ----
  { name: "EVENT with a string payload", send: ['2"notarray"'], close: "parse error" },
  { name: "EVENT with an empty array", send: ["2[]"], close: "parse error" },
  {
    name: "EVENT named by a number (allowed, as by the official parser)",
    send: ["2[1]"],
    check: (seen) => assert.deepEqual(seen.events, [[1], ["probe"]]),
  },
  { name: "EVENT named by an object", send: ['2[{"toString":"foo"}]'], close: "parse error" },
  { name: "EVENT named null", send: ["2[null]"], close: "parse error" },
  ...["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].map(
    (name): Row => ({ name: `reserved event name "${name}"`, send: [`2["${name}","x"]`], close: "parse error" }),
  ),
  {
    name: '"error" event without an error listener: ignored',
    send: ['2["error","x"]'],
    check: (seen) => assert.deepEqual(seen.events, [["error", "x"], ["probe"]]),
  },
  {
    name: '"error" event with an error listener: the listener gets it',
    send: ['2["error","x"]'],
    errorListener: true,
    check: (seen) => assert.deepEqual(seen.errors, ["x"]),
  },
  { name: "EVENT with trailing garbage", send: ['2["x"]]'], close: "parse error" },
  { name: "EVENT with an ack id beyond 2^53", send: ['299999999999999999999["x"]'], close: "parse error", official: "keeps the connection, id loses precision" },

  // ---- acknowledgements ----
  { name: "ACK for an unknown id: ignored", send: ['3999["x"]'], check: noEvents },
  { name: "ACK with a non-JSON payload", send: ["3abc"], close: "parse error" },
  { name: "ACK with an object payload", send: ['30{"a":1}'], close: "parse error" },
  { name: "ACK without a payload", send: ["35"], close: "parse error", official: "ignores it" },
  { name: "ACK id beyond 2^53", send: ['399999999999999999999["x"]'], close: "parse error", official: "ignores it" },

  // ---- packet types and namespaces ----
  { name: "unknown packet type 9", send: ["9"], close: "parse error" },
  { name: "unknown packet type 9 with data", send: ['9["x"]'], close: "parse error" },
  { name: "unknown packet type 7", send: ["7"], close: "parse error" },
  { name: "empty message", send: [""], close: "parse error" },
  { name: "DISCONNECT with a payload", send: ['1"x"'], close: "parse error" },
  { name: "EVENT whose namespace has no comma (so no payload)", send: ['2/other["x"]'], close: "parse error" },
  { name: "CONNECT to a namespace without a slash", send: ["0nope"], close: "parse error" },
  { name: "CONNECT with an array as auth", send: ["0/other,[1]"], close: "parse error" },
  {
    name: "CONNECT to a namespace that does not exist: CONNECT_ERROR, the connection stays",
    send: ["0/admin,"],
    reply: '4/admin,{"message":"Invalid namespace"}',
    check: noEvents,
  },
  {
    name: "CONNECT without the comma to a namespace that does not exist (as python-socketio 4 writes it)",
    send: ["0/admin"],
    reply: '4/admin,{"message":"Invalid namespace"}',
    check: noEvents,
  },
  {
    name: "CONNECT without the comma to an existing namespace: joined",
    send: ["0/other"],
    reply: /^0\/other,\{"sid":"[^"]+","pid":"[^"]+"\}$/,
    check: () => assert.equal(fx.io.of("/other").sockets.size, 1),
  },
  { name: "CONNECT twice to the same namespace", send: ["0"], close: "forced close" },
  { name: "EVENT to a namespace not joined", send: ['2/other,["x"]'], close: "forced close" },
  { name: "DISCONNECT from a namespace not joined", send: ["1/other,"], close: "forced close" },
  { name: "CONNECT_ERROR sent by the client", send: ['4{"message":"x"}'], close: "forced close" },

  // ---- binary packets ----
  ...['"splice"', "-1", "99", "1.5", "null", '"0"', "1e400", "[0]"].map(
    (num): Row => ({
      name: `placeholder num ${num}`,
      send: [`51-["x",{"_placeholder":true,"num":${num}}]`, B("a")],
      close: "parse error",
    }),
  ),
  { name: "attachment count 5999999999", send: ['5999999999-["x"]'], close: "parse error" },
  { name: "attachment count above maxAttachments (11 > 10)", send: [`511-["x",${Array.from({ length: 11 }, (_, i) => placeholder(i)).join(",")}]`], close: "parse error" },
  { name: "attachment count 0", send: ['50-["x"]'], close: "parse error" },
  { name: "attachment count without its dash", send: ['51["x"]'], close: "parse error" },
  { name: "an attachment announced but never referenced", send: ['51-["x"]', B("a")], close: "parse error", official: "delivers the event" },
  {
    name: "one attachment referenced twice",
    send: [`52-["x",${placeholder(0)},${placeholder(0)}]`, B("a"), B("b")],
    close: "parse error",
    official: "delivers the event, the first buffer twice",
  },
  { name: "text arriving while attachments are awaited", send: [`51-["x",${placeholder(0)}]`, '2["y"]'], close: "parse error" },
  { name: "a binary message when none is expected", send: [B("abc")], close: "parse error" },
  {
    name: "a placeholder in a text packet stays a plain object",
    send: [`2["x",${placeholder(0)}]`],
    check: (seen) => assert.deepEqual(seen.x, [[{ _placeholder: true, num: 0 }]]),
  },
  {
    name: "attachments are put back where their placeholders were",
    send: [`52-["x",{"a":${placeholder(1)}},[${placeholder(0)}]]`, B("first"), B("second")],
    check: (seen) => assert.deepEqual(seen.x, [[{ a: B("second") }, [B("first")]]]),
  },

  // ---- deep and hostile JSON ----
  { name: `${DEPTH}-deep JSON that is not an event`, send: ["2" + nested(DEPTH, "")], close: "parse error" },
  {
    name: `${DEPTH}-deep event argument: delivered`,
    send: ['2["x",' + nested(DEPTH, "7") + "]"],
    check: (seen) => {
      assert.equal(seen.x.length, 1);
      assert.equal(depthOf(seen.x[0][0]), DEPTH);
      assert.equal(innermost(seen.x[0][0]), 7);
    },
  },
  {
    name: `${DEPTH}-deep placeholder: the buffer is put back, no stack overflow`,
    send: ['51-["x",' + nested(DEPTH, placeholder(0)) + "]", B("deep")],
    official: "closes the connection (its reconstruction recurses and overflows the stack)",
    check: (seen) => {
      assert.equal(depthOf(seen.x[0][0]), DEPTH);
      assert.deepEqual(innermost(seen.x[0][0]), B("deep"));
    },
  },
  {
    name: "__proto__ in event data: an own property, no pollution",
    send: ['2["x",{"__proto__":{"polluted":"yes"},"a":{"__proto__":{"polluted":"yes"}}}]'],
    check: (seen) => {
      const arg = seen.x[0][0] as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(arg), Object.prototype);
      assert.ok(Object.hasOwn(arg, "__proto__"));
      assert.equal(arg.polluted, undefined);
    },
  },
  {
    name: "__proto__ around a placeholder: the buffer goes into an own property",
    send: [`51-["x",{"__proto__":${placeholder(0)}}]`, B("a")],
    check: (seen) => {
      const arg = seen.x[0][0] as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(arg), Object.prototype);
      assert.deepEqual(Object.getOwnPropertyDescriptor(arg, "__proto__")?.value, B("a"));
    },
  },
  {
    name: "__proto__ and constructor.prototype in auth: kept as data, no pollution",
    join: '0{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"pid":{"__proto__":1},"offset":[]}',
    send: [],
    check: (seen) => {
      const auth = seen.socket.handshake.auth;
      assert.equal(Object.getPrototypeOf(auth), Object.prototype);
      assert.ok(Object.hasOwn(auth, "__proto__"));
      assert.equal(auth.polluted, undefined);
      assert.equal(seen.socket.recovered, false);
    },
  },

  // ---- size ----
  // Over polling the POST gets 413 and the client gives the session up (it closes it), as
  // with engine.io; over WebSocket the server closes with 1009.
  {
    name: `a message over maxHttpBufferSize (${MAX_BUFFER})`,
    send: ['2["x","' + "a".repeat(MAX_BUFFER) + '"]'],
    close: { polling: "transport close", websocket: "transport error" },
  },
];

// ---- running the table ----

let fx: IoFixture;
const unexpected: unknown[] = [];
const onUnexpected = (err: unknown) => unexpected.push(err);

before(async () => {
  process.on("uncaughtException", onUnexpected);
  process.on("unhandledRejection", onUnexpected);
  fx = await startIo({ maxHttpBufferSize: MAX_BUFFER, connectionStateRecovery: {} });
  fx.io.of("/other");
});

after(async () => {
  process.off("uncaughtException", onUnexpected);
  process.off("unhandledRejection", onUnexpected);
  await fx.close();
});

/** A raw Engine.IO connection on the Socket.IO path; messages as they arrive. */
class RawClient {
  readonly eio: EioClient;
  readonly messages: string[] = [];
  private waiter: (() => void) | undefined;

  constructor(transport: Transport) {
    this.eio = new EioClient(fx.url, { path: "/socket.io/", transports: [transport] });
    this.eio.on("message", (data) => {
      this.messages.push(String(data));
      this.waiter?.();
    });
  }

  /** Resolves with the next message (from the queue first). */
  async next(what: string): Promise<string> {
    while (this.messages.length === 0) {
      await within(new Promise<void>((resolve) => (this.waiter = resolve)), T, what);
    }
    return this.messages.shift()!;
  }
}

async function runRow(row: Row, transport: Transport): Promise<void> {
  const client = new RawClient(transport);
  const closed = new Promise<string>((resolve) => client.eio.on("close", (reason) => resolve(reason)));
  try {
    await within(once(client.eio, "open"), T, "open");
    const connection = within(once<[Socket]>(fx.io, "connection"), T, "server connection");
    client.eio.send(row.join ?? "0");
    const reply = await client.next("CONNECT reply");
    assert.match(reply, /^0\{"sid":"[^"]+","pid":"[^"]+"\}$/);
    const [socket] = await connection;
    const seen: Seen = { socket, events: [], x: [], errors: [] };
    socket.onAny((...args: unknown[]) => seen.events.push(args));
    socket.on("x", (...args: unknown[]) => seen.x.push(args));
    if (row.errorListener) socket.on("error", (err: unknown) => seen.errors.push(err));
    const disconnected = within(once<[DisconnectReason]>(socket, "disconnect"), T, `${row.name}: server disconnect`);

    for (const message of row.send) client.eio.send(message);
    if (row.reply !== undefined) {
      const reply = await client.next(`${row.name}: reply`);
      if (typeof row.reply === "string") assert.equal(reply, row.reply);
      else assert.match(reply, row.reply);
    }

    if (row.close) {
      const [reason] = await disconnected;
      assert.equal(reason, typeof row.close === "string" ? row.close : row.close[transport], row.name);
      await within(closed, T, `${row.name}: client sees the close`);
      assert.equal(socket.connected, false);
      assert.equal(fx.io.of("/").sockets.has(socket.id), false);
      return;
    }
    // Still usable: a probe sent after the bad input arrives (messages are handled in order).
    const probe = within(once(socket, "probe"), T, `${row.name}: probe`);
    client.eio.send('2["probe"]');
    await probe;
    assert.equal(socket.connected, true, row.name);
    assert.deepEqual(client.messages, [], "no other reply");
    row.check?.(seen);
  } finally {
    client.eio.close();
  }
}

for (const transport of ["websocket", "polling"] as const) {
  for (const row of ROWS) {
    test(`${transport}: ${row.name}${row.official ? ` (official: ${row.official})` : ""}`, { timeout: 10_000 }, () => runRow(row, transport));
  }
}

test("an exception thrown by an event or connection listener is the application's: uncaught, not a parse error", async () => {
  const thrown: unknown[] = [];
  let caught: () => void = () => {};
  process.setUncaughtExceptionCaptureCallback((err) => {
    thrown.push(err);
    caught();
  });
  const client = new RawClient("websocket");
  try {
    const nsp = fx.io.of("/throwing");
    const connection = within(once<[Socket]>(nsp, "connection"), T, "connection");
    nsp.once("connection", () => {
      throw new Error("bug in a connection handler");
    });
    await within(once(client.eio, "open"), T, "open");
    client.eio.send("0/throwing,");
    assert.match(await client.next("CONNECT reply"), /^0\/throwing,\{"sid"/);
    const [socket] = await connection;
    socket.on("boom", () => {
      throw new Error("bug in an event handler");
    });
    const probe = within(once(socket, "probe"), T, "probe");
    const secondError = new Promise<void>((resolve) => (caught = () => thrown.length === 2 && resolve()));
    client.eio.send('2/throwing,["boom"]');
    client.eio.send('2/throwing,["probe"]');
    await probe;
    await within(secondError, T, "both errors surface");
    assert.deepEqual(
      thrown.map((err) => (err as Error).message),
      ["bug in a connection handler", "bug in an event handler"],
    );
    assert.equal(socket.connected, true, "the connection is not closed for it");
  } finally {
    process.setUncaughtExceptionCaptureCallback(null);
    client.eio.close();
  }
});

test("after the table: a fresh socket.io-client connects and talks; nothing was uncaught; nothing leaked", async () => {
  const client = fx.client("/");
  const [socket] = await within(once<[Socket]>(fx.io, "connection"), T, "connection");
  await within(once(client, "connect"), T, "client connect");
  socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
  assert.deepEqual(await within(client.emitWithAck("echo", { ok: [1, B("z")] }), T, "echo"), { ok: [1, B("z")] });
  assert.deepEqual(unexpected, []);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  // Only the fresh client's socket is left.
  assert.deepEqual([...fx.io.of("/").sockets.keys()], [socket.id]);
  assert.equal(fx.io.of("/other").sockets.size, 0);
});
