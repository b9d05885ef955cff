/**
 * The engine against the official revision 3 client (engine.io-client 3.5.5, as used by
 * socket.io-client v2) with `allowEIO3: true`: transports, upgrade, messages, the
 * reversed heartbeat, base64 mode, and refusal when revision 3 is not allowed.
 *
 * In Node this client has no XHR2, so its polling always asks for base64 (`b64=1`);
 * binary polling payloads are therefore covered by the raw-request tests, not here.
 */
import { EventEmitter, once as nextEvent } from "node:events";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Socket as ClientV4 } from "engine.io-client";
import type { ConnectionError, ServerOptions, Socket as EngineSocket } from "../../src/engine/index";
import { T, startEngine, once, within, type EngineFixture, quiet, asBuffer } from "../helpers";

/** The part of the untyped 3.x client these tests use. */
interface V3Options {
  transports?: Array<"polling" | "websocket">;
  upgrade?: boolean;
  forceBase64?: boolean;
}
interface V3Handshake {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
}
interface V3Socket {
  id: string | null;
  readyState: string;
  transport: { name: string; query: Record<string, string | number> };
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { compress?: boolean }, fn?: () => void): V3Socket;
  close(): V3Socket;
  on(event: string, fn: (...args: never[]) => void): V3Socket;
  once(event: string, fn: (...args: never[]) => void): V3Socket;
  /** Sends one ping; replaced in a test to make the client fall silent. */
  ping(): void;
}
type V3Factory = (uri: string, opts?: V3Options) => V3Socket;

const connectV3: V3Factory = require("engine.io-client-v3");

const BOTH = ["polling", "websocket"] as const;

async function engine(t: TestContext, opts: ServerOptions = {}): Promise<EngineFixture> {
  const fx = await startEngine({ allowEIO3: true, ...opts });
  t.after(() => fx.close());
  return fx;
}

function next<A extends unknown[]>(emitter: EventEmitter, event: string): Promise<A> {
  return nextEvent(emitter, event) as Promise<A>;
}

interface Pair {
  client: V3Socket;
  socket: EngineSocket;
  handshake: V3Handshake;
  /** When the server emitted `connection`, i.e. when its heartbeat clock started. */
  openedAt: number;
}

async function connect(t: TestContext, fx: EngineFixture, opts: V3Options = {}): Promise<Pair> {
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  let openedAt = 0;
  fx.engine.once("connection", () => (openedAt = Date.now()));
  const client = connectV3(fx.url, opts);
  t.after(() => client.close());
  const handshake = once<[V3Handshake]>(client, "handshake");
  await within(once(client, "open"), T, "client open");
  const [socket] = await within(connection, T, "server connection");
  return { client, socket, handshake: (await handshake)[0], openedAt };
}

function collect<T>(emitter: EventEmitter | V3Socket, event: string, n: number): Promise<T[]> {
  return new Promise((resolve) => {
    const got: T[] = [];
    (emitter as EventEmitter).on(event, (data: T) => {
      got.push(data);
      if (got.length === n) resolve(got);
    });
  });
}


/** Sends a mix of text and binary both ways and checks what each side got. */
async function roundTrip({ client, socket }: Pair): Promise<void> {
  const toClient = collect<unknown>(client, "message", 5);
  const toServer = collect<unknown>(socket, "message", 5);
  socket.send("héllo wörld ✓");
  socket.send("emoji 🎉 𝄞");
  socket.send(Buffer.from([0, 1, 2, 255]));
  socket.send(new Uint8Array([9, 7, 8, 9]).subarray(1, 3));
  socket.send(Buffer.alloc(5000, 0xcd));
  client.send("ünïcode ✓");
  client.send("🎉");
  client.send(Buffer.from([3, 2, 1]));
  client.send(new Uint8Array([5, 6]).buffer);
  client.send(Buffer.alloc(5000, 0xef));
  const [atClient, atServer] = await within(Promise.all([toClient, toServer]), T, "messages");
  assert.equal(atClient[0], "héllo wörld ✓");
  assert.equal(atClient[1], "emoji 🎉 𝄞");
  assert.deepEqual(asBuffer(atClient[2]), Buffer.from([0, 1, 2, 255]));
  assert.deepEqual(asBuffer(atClient[3]), Buffer.from([7, 8]));
  assert.deepEqual(asBuffer(atClient[4]), Buffer.alloc(5000, 0xcd));
  assert.equal(atServer[0], "ünïcode ✓");
  assert.equal(atServer[1], "🎉");
  for (const data of atServer.slice(2)) assert.ok(Buffer.isBuffer(data), "binary is a Buffer on the server");
  assert.deepEqual(atServer.slice(2), [Buffer.from([3, 2, 1]), Buffer.from([5, 6]), Buffer.alloc(5000, 0xef)]);
}

// ---- handshake and transports ----

for (const transport of BOTH) {
  test(`revision 3 ${transport} only: handshake, protocol 3, messages both ways`, async (t) => {
    const fx = await engine(t, { pingInterval: 3000, pingTimeout: 2000 });
    const pair = await connect(t, fx, { transports: [transport] });
    const { client, socket, handshake } = pair;
    assert.equal(socket.protocol, 3);
    assert.equal(socket.request._query.EIO, "3");
    assert.equal(socket.id, client.id);
    assert.equal(handshake.sid, socket.id);
    assert.equal(socket.transport.name, transport);
    assert.equal(client.transport.name, transport);
    assert.equal(handshake.pingInterval, 3000);
    assert.equal(handshake.pingTimeout, 2000);
    assert.deepEqual(handshake.upgrades, transport === "polling" ? ["websocket"] : []);
    await roundTrip(pair);
    assert.equal(socket.upgraded, false);
  });
}

test("revision 3 polling → WebSocket upgrade, then messages both ways", async (t) => {
  const fx = await engine(t);
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  const client = connectV3(fx.url);
  t.after(() => client.close());
  const [socket] = await within(connection, T, "connection");
  assert.equal(socket.transport.name, "polling");
  const serverEvents: string[] = [];
  socket.on("upgrading", () => serverEvents.push("upgrading"));
  socket.on("upgrade", (transport: EngineSocket["transport"]) => serverEvents.push(`upgrade ${transport.name}`));
  // A message sent before the upgrade completes arrives exactly once.
  const early = collect<string>(client, "message", 1);
  socket.send("early");
  const [upgraded] = await within(
    Promise.all([once<[{ name: string }]>(client, "upgrade"), next(socket, "upgrade")]),
    T,
    "upgrade",
  );
  assert.equal(upgraded[0].name, "websocket");
  assert.deepEqual(await within(early, T, "early message"), ["early"]);
  assert.deepEqual(serverEvents, ["upgrading", "upgrade websocket"]);
  assert.equal(socket.upgraded, true);
  assert.equal(socket.transport.name, "websocket");
  assert.equal(socket.protocol, 3);
  await roundTrip({ client, socket, handshake: { sid: socket.id, upgrades: [], pingInterval: 0, pingTimeout: 0 }, openedAt: 0 });
});

for (const transport of BOTH) {
  test(`forceBase64 over ${transport}: binary still round-trips`, async (t) => {
    const fx = await engine(t);
    const pair = await connect(t, fx, { transports: [transport], forceBase64: true });
    // The client asked for base64 (`b64=1`), so the server must not send it binary.
    assert.equal(pair.socket.request._query.b64, "1");
    assert.equal(pair.socket.transport.supportsBinary, false);
    const frames: Array<"text" | "binary"> = [];
    if (transport === "websocket") {
      // The client takes Node's global WebSocket where there is one (Node 22+), else ws 7's;
      // both hand text frames over as strings.
      const ws = (pair.client.transport as unknown as { ws: EventEmitter | WebSocket }).ws;
      const kind = (data: unknown): "text" | "binary" => (typeof data === "string" ? "text" : "binary");
      if (ws instanceof EventEmitter) ws.on("message", (data: unknown) => frames.push(kind(data)));
      else ws.addEventListener("message", (event) => frames.push(kind(event.data)));
    }
    await roundTrip(pair);
    if (transport === "websocket") assert.deepEqual(frames, ["text", "text", "text", "text", "text"]);
  });
}

test("forceBase64 with an upgrade: binary still round-trips on the WebSocket", async (t) => {
  const fx = await engine(t);
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  const client = connectV3(fx.url, { forceBase64: true });
  t.after(() => client.close());
  const [socket] = await within(connection, T, "connection");
  await within(Promise.all([once(client, "upgrade"), next(socket, "upgrade")]), T, "upgrade");
  assert.equal(socket.transport.name, "websocket");
  assert.equal(socket.transport.supportsBinary, false);
  await roundTrip({ client, socket, handshake: { sid: socket.id, upgrades: [], pingInterval: 0, pingTimeout: 0 }, openedAt: 0 });
});

// ---- heartbeat ----

for (const transport of BOTH) {
  test(`revision 3 heartbeat over ${transport}: the client pings, the server answers`, async (t) => {
    const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
    const { client, socket } = await connect(t, fx, { transports: [transport] });
    const created: string[] = [];
    socket.on("packetCreate", (p: { type: string }) => created.push(p.type));
    const received: string[] = [];
    socket.on("packet", (p: { type: string }) => received.push(p.type));
    const beats = collect<void>(socket, "heartbeat", 3);
    const pongs = collect<void>(client, "pong", 3);
    await within(Promise.all([beats, pongs]), 2000, "three heartbeats");
    assert.ok(received.filter((type) => type === "ping").length >= 3, "the client pings");
    assert.ok(created.filter((type) => type === "pong").length >= 3, "the server answers with pongs");
    assert.ok(!created.includes("ping"), "a revision 3 server never pings");
    assert.equal(socket.readyState, "open");
  });

  test(`revision 3 ping timeout over ${transport}: a client that stops pinging is closed`, async (t) => {
    const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
    const { client, socket, openedAt } = await connect(t, fx, { transports: [transport] });
    client.ping = () => {};
    const [reason] = await within(next<[string]>(socket, "close"), 2000, "server close");
    assert.equal(reason, "ping timeout");
    // Silence is allowed for pingInterval + pingTimeout.
    const elapsed = Date.now() - openedAt;
    assert.ok(elapsed >= 290 && elapsed < 1000, `closed after ${elapsed} ms`);
    assert.equal(fx.engine.clientsCount, 0);
  });
}

// ---- closing ----

for (const transport of BOTH) {
  test(`revision 3 close from either side over ${transport}`, async (t) => {
    const fx = await engine(t);
    const a = await connect(t, fx, { transports: [transport] });
    const serverClosed = next<[string]>(a.socket, "close");
    a.client.close();
    const [reason] = await within(serverClosed, T, "server close");
    assert.equal(reason, "transport close");

    const b = await connect(t, fx, { transports: [transport] });
    const closes = Promise.all([next<[string]>(b.socket, "close"), once<[string]>(b.client, "close")]);
    b.socket.close();
    const [[serverReason], [clientReason]] = await within(closes, T, "close");
    assert.equal(serverReason, "forced close");
    assert.equal(clientReason, "transport close");
    assert.equal(fx.engine.clientsCount, 0);
  });
}

// ---- mixed revisions and refusal ----

test("allowEIO3 serves revision 3 and revision 4 clients side by side", async (t) => {
  const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
  const old = await connect(t, fx, { transports: ["websocket"] });
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  const modern = new ClientV4(fx.url, { transports: ["websocket"] });
  t.after(() => modern.close());
  await within(once(modern, "open"), T, "v4 open");
  const [socket4] = await within(connection, T, "v4 connection");
  assert.equal(old.socket.protocol, 3);
  assert.equal(socket4.protocol, 4);
  // Each keeps its own heartbeat direction alive.
  await within(Promise.all([collect(old.socket, "heartbeat", 2), collect(socket4, "heartbeat", 2)]), 2000, "heartbeats");
  assert.equal(fx.engine.clientsCount, 2);
});

for (const transport of BOTH) {
  test(`without allowEIO3 a revision 3 ${transport} client is refused with code 5`, async (t) => {
    const fx = await startEngine({ allowEIO3: false });
    t.after(() => fx.close());
    let opened = false;
    let connected = false;
    fx.engine.on("connection", () => (connected = true));
    const refused = next<[ConnectionError]>(fx.engine, "connection_error");
    const client = connectV3(fx.url, { transports: [transport] });
    t.after(() => client.close());
    client.on("open", () => (opened = true));
    const errored = once<[Error & { type?: string; description?: unknown }]>(client, "error");
    const [[err], [clientError]] = await within(Promise.all([refused, errored]), T, "refusal");
    assert.equal(err.code, 5);
    assert.equal(err.message, "Unsupported protocol version");
    assert.equal(Number(err.context.protocol), 3);
    assert.equal(clientError.type, "TransportError");
    if (transport === "polling") assert.equal(clientError.description, 400);
    await quiet(50);
    assert.equal(opened, false);
    assert.equal(connected, false);
    assert.equal(fx.engine.clientsCount, 0);
  });
}
