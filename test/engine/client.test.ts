/**
 * The engine against the official Engine.IO client (engine.io-client v6, revision 4):
 * handshake, messages both ways, transports, upgrade under load, heartbeat, closing,
 * bookkeeping, options and socket events. Everything runs over real loopback sockets.
 */
import { EventEmitter, once as nextEvent } from "node:events";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { Socket as Client, type HandshakeData, type SocketOptions } from "engine.io-client";
import type { Packet, ServerOptions, Socket as EngineSocket } from "../../src/engine/index";
import { T, startEngine, once, within, type EngineFixture, quiet, asBuffer } from "../helpers";

type Transports = "polling" | "websocket";
const BOTH: Transports[] = ["polling", "websocket"];

/** A fresh engine whose HTTP server is closed when the test ends. */
async function engine(t: TestContext, opts: ServerOptions = {}): Promise<EngineFixture> {
  const fx = await startEngine(opts);
  t.after(() => fx.close());
  return fx;
}

interface Pair {
  client: Client;
  socket: EngineSocket;
  handshake: HandshakeData;
  /** When the server emitted `connection`, i.e. when its heartbeat clock started. */
  openedAt: number;
}

/** Connects an official client and waits for both ends to be open. */
async function connect(t: TestContext, fx: EngineFixture, opts: Partial<SocketOptions> = {}): Promise<Pair> {
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  let openedAt = 0;
  fx.engine.once("connection", () => (openedAt = Date.now()));
  const client = new Client(fx.url, opts);
  t.after(() => client.close());
  const handshake = once<[HandshakeData]>(client, "handshake");
  await within(once(client, "open"), T, "client open");
  const [socket] = await within(connection, T, "server connection");
  return { client, socket, handshake: (await handshake)[0], openedAt };
}

/** A Node emitter (the engine side) or the client's own emitter. */
type Listenable = EventEmitter | { on(event: string, fn: (...args: never[]) => void): unknown };

/** Resolves with the arguments of the next `event` of a Node emitter. */
function next<A extends unknown[]>(emitter: EventEmitter, event: string): Promise<A> {
  return nextEvent(emitter, event) as Promise<A>;
}

/** Resolves with the first `n` payloads of `event`. */
function collect<T>(emitter: Listenable, event: string, n: number): Promise<T[]> {
  return new Promise((resolve) => {
    const got: T[] = [];
    (emitter as EventEmitter).on(event, (data: T) => {
      got.push(data);
      if (got.length === n) resolve(got);
    });
  });
}

/** A short bounded wait, used only to show that something did NOT happen. */

// ---- handshake ----

for (const transport of BOTH) {
  test(`handshake over ${transport}`, async (t) => {
    const fx = await engine(t, { pingInterval: 3000, pingTimeout: 2000, maxHttpBufferSize: 12345 });
    const { client, socket, handshake } = await connect(t, fx, { transports: [transport] });
    assert.equal(socket.id, client.id);
    assert.equal(handshake.sid, socket.id);
    assert.equal(socket.protocol, 4);
    assert.equal(socket.transport.name, transport);
    assert.equal(client.transport.name, transport);
    assert.equal(socket.readyState, "open");
    assert.match(socket.remoteAddress, /127\.0\.0\.1$/);
    assert.equal(socket.request.headers.host, `127.0.0.1:${fx.port}`);
    assert.equal(socket.request._query.EIO, "4");
    assert.equal(handshake.pingInterval, 3000);
    assert.equal(handshake.pingTimeout, 2000);
    assert.equal(handshake.maxPayload, 12345);
    // Only a polling session has somewhere better to go.
    assert.deepEqual(handshake.upgrades, transport === "polling" ? ["websocket"] : []);
    assert.equal(fx.engine.clientsCount, 1);
    assert.equal(fx.engine.clients[socket.id], socket);
  });
}

// ---- messages ----

for (const transport of BOTH) {
  test(`server → client strings and every binary form over ${transport}`, async (t) => {
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport], upgrade: false });
    const backing = new Uint8Array([9, 9, 1, 2, 3, 250, 9]).buffer;
    const floats = new Float64Array([Math.PI, -0, Infinity]);
    const sent: Array<{ data: string | ArrayBuffer | ArrayBufferView | Buffer; expect: string | Buffer }> = [
      { data: "hello", expect: "hello" },
      { data: "héllo wörld — ünïcode ✓ 日本語", expect: "héllo wörld — ünïcode ✓ 日本語" },
      { data: "emoji 🎉👍🏽 and a surrogate pair 𝄞", expect: "emoji 🎉👍🏽 and a surrogate pair 𝄞" },
      { data: "4b2 looks like a packet: 6", expect: "4b2 looks like a packet: 6" },
      { data: Buffer.from([0, 1, 2, 255]), expect: Buffer.from([0, 1, 2, 255]) },
      { data: new Uint8Array([7, 8, 9]).buffer, expect: Buffer.from([7, 8, 9]) },
      { data: new Uint8Array(backing, 2, 4), expect: Buffer.from([1, 2, 3, 250]) },
      { data: new Int16Array([-2, 258]), expect: Buffer.from(new Int16Array([-2, 258]).buffer) },
      { data: floats, expect: Buffer.from(floats.buffer) },
      { data: new DataView(backing, 3, 2), expect: Buffer.from([2, 3]) },
      { data: Buffer.alloc(0), expect: Buffer.alloc(0) },
      { data: Buffer.alloc(70_000, 0xab), expect: Buffer.alloc(70_000, 0xab) },
    ];
    const received = collect<unknown>(client, "message", sent.length);
    for (const { data } of sent) socket.send(data);
    const got = await within(received, T, "messages");
    got.forEach((data, i) => {
      const { expect } = sent[i];
      if (typeof expect === "string") assert.equal(data, expect, `message ${i}`);
      else assert.deepEqual(asBuffer(data), expect, `message ${i}`);
    });
  });

  test(`client → server strings and binary over ${transport}; binary arrives as Buffer`, async (t) => {
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport], upgrade: false });
    const received = collect<unknown>(socket, "message", 6);
    client.send("plain");
    client.send("ünïcode 🎉 𝄞");
    client.send(Buffer.from([1, 2, 3]));
    client.send(new Uint8Array([4, 5]).buffer);
    client.send(new Uint8Array([0, 6, 7, 0]).subarray(1, 3));
    client.send(Buffer.alloc(0));
    const got = await within(received, T, "messages");
    assert.equal(got[0], "plain");
    assert.equal(got[1], "ünïcode 🎉 𝄞");
    for (const data of got.slice(2)) assert.ok(Buffer.isBuffer(data), "binary is a Buffer on the server");
    assert.deepEqual(got.slice(2), [Buffer.from([1, 2, 3]), Buffer.from([4, 5]), Buffer.from([6, 7]), Buffer.alloc(0)]);
  });

  test(`an empty string is the bare packet "4" and arrives without data over ${transport}`, async (t) => {
    // Both official parsers read a bare "4" as a message without data; the server must agree.
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport], upgrade: false });
    const toClient = collect<unknown>(client, "message", 2);
    const toServer = collect<unknown>(socket, "message", 2);
    socket.send("");
    socket.send("after");
    client.send("");
    client.send("after");
    assert.deepEqual(await within(Promise.all([toClient, toServer]), T, "messages"), [
      [undefined, "after"],
      [undefined, "after"],
    ]);
  });

  test(`send callbacks run on both sides over ${transport}`, async (t) => {
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport], upgrade: false });
    const atClient = once<[string]>(client, "message");
    const atServer = next<[string]>(socket, "message");
    const serverCallback = new Promise<unknown>((resolve) => socket.send("to client", { compress: false }, resolve));
    const clientCallback = new Promise<void>((resolve) => client.send("to server", {}, resolve));
    const [arg] = await within(Promise.all([serverCallback, clientCallback]), T, "send callbacks");
    assert.equal((arg as EngineSocket["transport"]).name, transport, "the server callback gets the transport");
    assert.deepEqual(await within(Promise.all([atClient, atServer]), T, "messages"), [["to client"], ["to server"]]);
  });
}

// ---- transports ----

test("polling only: the client never upgrades although the server offers it", async (t) => {
  const fx = await engine(t);
  const { client, socket, handshake } = await connect(t, fx, { transports: ["polling"] });
  assert.deepEqual(handshake.upgrades, ["websocket"]);
  let upgrading = false;
  socket.on("upgrading", () => (upgrading = true));
  const echoed = once<[string]>(client, "message");
  socket.on("message", (m: string) => socket.send(`echo:${m}`));
  client.send("ping-pong");
  assert.deepEqual(await within(echoed, T, "echo"), ["echo:ping-pong"]);
  await quiet(150);
  assert.equal(upgrading, false);
  assert.equal(socket.upgraded, false);
  assert.equal(socket.transport.name, "polling");
});

test("WebSocket only: no upgrade is offered and messages flow", async (t) => {
  const fx = await engine(t);
  const { client, socket, handshake } = await connect(t, fx, { transports: ["websocket"] });
  assert.deepEqual(handshake.upgrades, []);
  assert.equal(socket.transport.name, "websocket");
  socket.on("message", (m: string) => socket.send(`echo:${m}`));
  const echoed = once<[string]>(client, "message");
  client.send("x");
  assert.deepEqual(await within(echoed, T, "echo"), ["echo:x"]);
  assert.equal(socket.upgraded, false);
});

for (const opts of [{ transports: ["polling"] }, { allowUpgrades: false }] as ServerOptions[]) {
  test(`server ${JSON.stringify(opts)}: no upgrade offered, the session stays on polling`, async (t) => {
    const fx = await engine(t, opts);
    const { client, socket, handshake } = await connect(t, fx);
    assert.deepEqual(handshake.upgrades, []);
    let upgrading = false;
    socket.on("upgrading", () => (upgrading = true));
    client.on("upgrading", () => (upgrading = true));
    socket.on("message", (m: string) => socket.send(`echo:${m}`));
    const echoed = once<[string]>(client, "message");
    client.send("y");
    assert.deepEqual(await within(echoed, T, "echo"), ["echo:y"]);
    await quiet(150);
    assert.equal(upgrading, false);
    assert.equal(client.transport.name, "polling");
    assert.equal(socket.transport.name, "polling");
  });
}

test('server transports ["polling"]: a WebSocket-only client cannot connect', async (t) => {
  const fx = await engine(t, { transports: ["polling"] });
  let connected = false;
  fx.engine.on("connection", () => (connected = true));
  const client = new Client(fx.url, { transports: ["websocket"] });
  t.after(() => client.close());
  const [reason] = await within(once<[string]>(client, "close"), T, "client close");
  assert.equal(reason, "transport error");
  assert.equal(connected, false);
  assert.equal(fx.engine.clientsCount, 0);
});

test('server transports ["websocket"]: a polling handshake is refused with code 0', async (t) => {
  const fx = await engine(t, { transports: ["websocket"] });
  const refused = next<[{ code: number; message: string }]>(fx.engine, "connection_error");
  const client = new Client(fx.url, { transports: ["polling"] });
  t.after(() => client.close());
  const [[err]] = await within(Promise.all([refused, once(client, "close")]), T, "refusal");
  assert.equal(err.code, 0);
  assert.equal(err.message, "Transport unknown");
});

// ---- upgrade under load ----

/** Message `i` of a stream: every 7th is binary (the number as 4 bytes), the rest text. */
function streamMessage(i: number): string | Buffer {
  if (i % 7 === 3) {
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(i);
    return buf;
  }
  return `m${i}`;
}

function streamIndex(data: unknown): number | "end" {
  if (typeof data === "string") {
    if (data.startsWith("end:")) return "end";
    assert.match(data, /^m\d+$/);
    return Number(data.slice(1));
  }
  const buf = asBuffer(data);
  assert.equal(buf.length, 4);
  const i = buf.readUInt32BE(0);
  assert.equal(i % 7, 3, "binary only where binary was sent");
  return i;
}

/**
 * Sends a numbered stream a few messages per timer tick, so that the upgrade lands in
 * the middle: it keeps going until at least `min` were sent and at least 60 of them
 * after `upgraded()` became true, then sends `end:<count>`. Resolves with the counts.
 */
function sendStream(send: (data: string | Buffer) => void, upgraded: () => boolean, min: number) {
  return new Promise<{ total: number; atUpgrade: number }>((resolve) => {
    let i = 0;
    let atUpgrade = -1;
    const tick = () => {
      for (let k = 0; k < 3; k++) {
        if (atUpgrade === -1 && upgraded()) atUpgrade = i;
        if (i >= min && atUpgrade !== -1 && i >= atUpgrade + 60) {
          send(`end:${i}`);
          return resolve({ total: i, atUpgrade });
        }
        send(streamMessage(i++));
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}

/** Resolves with the indices received, in order, once `end:` arrives. */
function receiveStream(emitter: Listenable) {
  return new Promise<{ got: number[]; end: number }>((resolve) => {
    const got: number[] = [];
    (emitter as EventEmitter).on("message", (data: unknown) => {
      const index = streamIndex(data);
      if (index === "end") resolve({ got, end: Number((data as string).slice(4)) });
      else got.push(index);
    });
  });
}

test("upgrade while both sides stream: every message arrives once, in order", async (t) => {
  const fx = await engine(t);
  const events: string[] = [];
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  const client = new Client(fx.url);
  t.after(() => client.close());
  let clientUpgraded = false;
  client.on("upgrade", (transport) => {
    events.push(`client upgrade ${transport.name}`);
    clientUpgraded = true;
  });

  // Both streams start right at open, on polling.
  const [socket] = await within(connection, T, "connection");
  let serverUpgraded = false;
  socket.on("upgrading", (transport: EngineSocket["transport"]) => events.push(`server upgrading ${transport.name}`));
  socket.on("upgrade", (transport: EngineSocket["transport"]) => {
    events.push(`server upgrade ${transport.name}`);
    serverUpgraded = true;
  });
  const serverReceived = receiveStream(socket);
  const serverSent = sendStream((d) => socket.send(d), () => serverUpgraded, 300);
  await within(once(client, "open"), T, "open");
  const clientReceived = receiveStream(client);
  const clientSent = sendStream((d) => client.send(d), () => clientUpgraded, 300);

  const [fromServer, fromClient, toClient, toServer] = await within(
    Promise.all([serverSent, clientSent, clientReceived, serverReceived]),
    10_000,
    "streams",
  );
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.equal(toClient.end, fromServer.total);
  assert.deepEqual(toClient.got, range(fromServer.total), "server → client: each once, in order");
  assert.equal(toServer.end, fromClient.total);
  assert.deepEqual(toServer.got, range(fromClient.total), "client → server: each once, in order");
  // The upgrade really happened mid-stream on both sides.
  assert.ok(fromServer.atUpgrade > 0 && fromServer.atUpgrade < fromServer.total, `server upgraded at ${fromServer.atUpgrade}`);
  assert.ok(fromClient.atUpgrade > 0 && fromClient.atUpgrade < fromClient.total, `client upgraded at ${fromClient.atUpgrade}`);
  assert.ok(fromServer.total >= 300 && fromClient.total >= 300);
  assert.deepEqual(events.filter((e) => e.startsWith("server")), ["server upgrading websocket", "server upgrade websocket"]);
  assert.ok(events.includes("client upgrade websocket"));
  assert.equal(socket.upgraded, true);
  assert.equal(socket.upgrading, false);
  assert.equal(socket.transport.name, "websocket");
  assert.equal(client.transport.name, "websocket");
});

// ---- heartbeat ----

for (const transport of BOTH) {
  test(`heartbeat over ${transport}: server pings, client pongs, heartbeat fires`, async (t) => {
    const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
    const { client, socket, openedAt } = await connect(t, fx, { transports: [transport] });
    const beats = collect<void>(socket, "heartbeat", 3);
    const pings = collect<void>(client, "ping", 3);
    await within(Promise.all([beats, pings]), 2000, "three heartbeats");
    // The third ping leaves 300 ms after open; sooner means the interval is ignored.
    const elapsed = Date.now() - openedAt;
    assert.ok(elapsed >= 290, `three heartbeats took ${elapsed} ms`);
    assert.equal(socket.readyState, "open");
    assert.equal(client.readyState, "open");
  });

  test(`ping timeout over ${transport}: a client that stops answering is closed`, async (t) => {
    const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
    const { client, socket, openedAt } = await connect(t, fx, { transports: [transport] });
    // Keep the client alive but drop its pongs on the way out.
    const clientTransport = client.transport;
    const send = clientTransport.send.bind(clientTransport);
    clientTransport.send = (packets: Array<{ type: string }>) => send(packets.filter((p) => p.type !== "pong"));
    let heartbeats = 0;
    socket.on("heartbeat", () => heartbeats++);
    const [reason] = await within(next<[string]>(socket, "close"), 2000, "server close");
    assert.equal(reason, "ping timeout");
    assert.equal(heartbeats, 0);
    // Ping at 100 ms after open, no pong by 300 ms.
    const elapsed = Date.now() - openedAt;
    assert.ok(elapsed >= 290 && elapsed < 1000, `closed after ${elapsed} ms`);
    assert.equal(fx.engine.clientsCount, 0);
  });
}

test("ping timeout with a raw WebSocket that never answers", async (t) => {
  const fx = await engine(t, { pingInterval: 100, pingTimeout: 200 });
  const connection = next<[EngineSocket]>(fx.engine, "connection");
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket`);
  t.after(() => ws.terminate());
  const frames: string[] = [];
  ws.on("message", (data) => frames.push(String(data)));
  const [socket] = await within(connection, T, "connection");
  const [reason] = await within(next<[string]>(socket, "close"), 2000, "server close");
  assert.equal(reason, "ping timeout");
  assert.match(frames[0], /^0\{"sid":"[^"]+","upgrades":\[\],"pingInterval":100,"pingTimeout":200,"maxPayload":1000000\}$/);
  assert.equal(frames[1], "2");
});

// ---- closing ----

for (const transport of BOTH) {
  test(`client close() over ${transport}: server reason "transport close"`, async (t) => {
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport] });
    const serverClosed = next<[string]>(socket, "close");
    const clientClosed = once<[string]>(client, "close");
    client.close();
    const [[serverReason], [clientReason]] = await within(Promise.all([serverClosed, clientClosed]), T, "close");
    assert.equal(serverReason, "transport close");
    assert.equal(clientReason, "forced close");
    assert.equal(socket.readyState, "closed");
    assert.equal(fx.engine.clientsCount, 0);
    assert.equal(fx.engine.clients[socket.id], undefined);
  });

  test(`server socket.close() over ${transport}: "forced close" on the server, the client sees the transport close`, async (t) => {
    const fx = await engine(t);
    const { client, socket } = await connect(t, fx, { transports: [transport] });
    const serverClosed = next<[string]>(socket, "close");
    const clientClosed = once<[string]>(client, "close");
    // Buffered messages go out before the close.
    const messages = collect<string>(client, "message", 2);
    socket.send("last words");
    socket.send("really");
    socket.close();
    const [[serverReason], [clientReason], got] = await within(
      Promise.all([serverClosed, clientClosed, messages]),
      T,
      "close",
    );
    assert.equal(serverReason, "forced close");
    assert.equal(clientReason, "transport close");
    assert.deepEqual(got, ["last words", "really"]);
    assert.equal(fx.engine.clientsCount, 0);
  });
}

test("engine.close() closes every session; clients and clientsCount follow", async (t) => {
  const fx = await engine(t);
  const leaving = await connect(t, fx, { transports: ["websocket"] });
  assert.equal(fx.engine.clientsCount, 1);
  const polling = await connect(t, fx, { transports: ["polling"] });
  assert.equal(fx.engine.clientsCount, 2);
  const upgradedPair = await connect(t, fx);
  if (!upgradedPair.socket.upgraded) await within(next(upgradedPair.socket, "upgrade"), T, "upgrade");
  assert.equal(fx.engine.clientsCount, 3);
  const pairs = [leaving, polling, upgradedPair];
  assert.deepEqual(Object.keys(fx.engine.clients).sort(), pairs.map((p) => p.socket.id).sort());
  for (const { socket } of pairs) assert.equal(fx.engine.clients[socket.id], socket);

  // One client leaving is accounted for.
  const gone = next(leaving.socket, "close");
  leaving.client.close();
  await within(gone, T, "first close");
  assert.equal(fx.engine.clientsCount, 2);
  assert.equal(fx.engine.clients[leaving.socket.id], undefined);

  const rest = [polling, upgradedPair];
  const serverReasons = Promise.all(rest.map((p) => next<[string]>(p.socket, "close")));
  const clientReasons = Promise.all(rest.map((p) => once<[string]>(p.client, "close")));
  fx.engine.close();
  const reasons = await within(serverReasons, T, "server closes");
  assert.deepEqual(reasons.map(([r]) => r), ["forced close", "forced close"]);
  assert.equal(fx.engine.clientsCount, 0);
  assert.deepEqual(Object.keys(fx.engine.clients), []);
  // Both clients are told: the WebSocket gets a close frame, the waiting poll a close packet.
  const clientSide = await within(clientReasons, T, "client closes");
  assert.deepEqual(clientSide.map(([r]) => r), ["transport close", "transport close"]);
});

// ---- options ----

for (const transport of BOTH) {
  test(`initialPacket is the first message over ${transport}`, async (t) => {
    const fx = await engine(t, { initialPacket: "welcome ✓" });
    const connection = next<[EngineSocket]>(fx.engine, "connection");
    fx.engine.on("connection", (s: EngineSocket) => s.send("second"));
    const client = new Client(fx.url, { transports: [transport] });
    t.after(() => client.close());
    const got = await within(collect<string>(client, "message", 2), T, "messages");
    assert.deepEqual(got, ["welcome ✓", "second"]);
    await connection;
  });
}

test("a binary initialPacket arrives as bytes", async (t) => {
  const fx = await engine(t, { initialPacket: Buffer.from([1, 2, 3]) });
  const client = new Client(fx.url, { transports: ["websocket"] });
  t.after(() => client.close());
  const [data] = await within(once<[unknown]>(client, "message"), T, "message");
  assert.deepEqual(asBuffer(data), Buffer.from([1, 2, 3]));
});

for (const transport of BOTH) {
  test(`generateId, sync and async, over ${transport}`, async (t) => {
    let n = 0;
    const sync = await engine(t, { generateId: () => `sync-${++n}` });
    const a = await connect(t, sync, { transports: [transport] });
    const b = await connect(t, sync, { transports: [transport] });
    assert.deepEqual([a.client.id, b.client.id], ["sync-1", "sync-2"]);
    assert.deepEqual([a.socket.id, b.socket.id], ["sync-1", "sync-2"]);

    const async = await engine(t, {
      generateId: (req) => new Promise((resolve) => setTimeout(() => resolve(`async-${req.headers.host?.split(":")[1]}`), 10)),
    });
    const c = await connect(t, async, { transports: [transport] });
    assert.equal(c.client.id, `async-${async.port}`);
    assert.equal(c.socket.id, c.client.id);
    assert.equal(async.engine.clients[`async-${async.port}`], c.socket);
    // The session works under its custom id.
    const echoed = once<[string]>(c.client, "message");
    c.socket.on("message", (m: string) => c.socket.send(m));
    c.client.send("custom");
    assert.deepEqual(await within(echoed, T, "echo"), ["custom"]);
  });
}

test("generateId overridden as a method (the engine.io way), sync then async", async (t) => {
  const fx = await engine(t);
  fx.engine.generateId = () => "method-sync";
  const a = await connect(t, fx, { transports: ["polling"] });
  assert.equal(a.client.id, "method-sync");
  fx.engine.generateId = () => Promise.resolve("method-async");
  const b = await connect(t, fx, { transports: ["websocket"] });
  assert.equal(b.client.id, "method-async");
  assert.deepEqual(Object.keys(fx.engine.clients).sort(), ["method-async", "method-sync"]);
});

// ---- socket events ----

for (const transport of BOTH) {
  test(`packetCreate, packet, flush and drain fire over ${transport}`, async (t) => {
    const fx = await engine(t, { pingInterval: 100, pingTimeout: 500 });
    const { client, socket } = await connect(t, fx, { transports: [transport], upgrade: false });
    const created: Packet[] = [];
    const flushed: Packet[][] = [];
    const log: string[] = [];
    socket.on("packetCreate", (p: Packet) => created.push(p));
    socket.on("flush", (packets: Packet[]) => {
      flushed.push(packets);
      log.push("flush");
    });
    socket.on("drain", () => log.push("drain"));

    // Incoming: the client's message and its pong both show up as `packet`.
    const packets = new Promise<Array<{ type: string; data?: unknown }>>((resolve) => {
      const seen: Array<{ type: string; data?: unknown }> = [];
      socket.on("packet", (p: { type: string; data?: unknown }) => {
        seen.push(p);
        if (seen.some((x) => x.type === "pong") && seen.some((x) => x.type === "message")) resolve(seen);
      });
    });
    client.send("from client");
    const seen = await within(packets, T, "packets");
    assert.deepEqual(seen.find((p) => p.type === "message"), { type: "message", data: "from client" });

    // Outgoing: two sends in one turn are created separately and flushed together.
    const received = collect<string>(client, "message", 2);
    const serverFlush = next<[EngineSocket, Packet[]]>(fx.engine, "flush");
    const serverDrain = next<[EngineSocket]>(fx.engine, "drain");
    socket.send("one");
    socket.send("two");
    const [[flushSocket, flushPackets], [drainSocket]] = await within(Promise.all([serverFlush, serverDrain]), T, "flush");
    assert.deepEqual(await within(received, T, "messages"), ["one", "two"]);
    assert.equal(flushSocket, socket);
    assert.equal(drainSocket, socket);
    const messages = created.filter((p) => p.type === "message").map((p) => p.data);
    assert.deepEqual(messages, ["one", "two"]);
    assert.ok(created.some((p) => p.type === "ping"), "pings are created as packets too");
    // Volley coalesces a turn's writes into one flush (engine.io flushes a WebSocket per packet).
    const batch = flushPackets.filter((p) => p.type === "message").map((p) => p.data);
    assert.deepEqual(batch, ["one", "two"], "one flush carries both");
    assert.ok(flushed.some((b) => b === flushPackets));
    const i = log.indexOf("flush");
    assert.equal(log[i + 1], "drain", "drain follows its flush");
  });
}
