/**
 * A client that stops reading: the outgoing buffer is visible (`bufferedAmount`,
 * `congested`, a `bufferDrain` event), volatile packets are dropped while congested, and
 * with `maxBufferedBytes` the session is closed instead of the process growing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import type { Socket as NetSocket } from "node:net";
import { io as connect } from "socket.io-client";
import { T, startEngine, once, within } from "../helpers";
import { startIo } from "../socket-helpers";
import type { Socket as EngineSocket } from "../../src/engine/socket";

const CHUNK = Buffer.alloc(64 * 1024, 7);

/** A raw Engine.IO v4 WebSocket client whose TCP socket stops reading once open. */
async function stalledClient(port: number, path = "/engine.io/"): Promise<{ ws: WebSocket; raw: NetSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?EIO=4&transport=websocket`);
  await within(once(ws, "message"), T, "open packet");
  const raw = (ws as unknown as { _socket: NetSocket })._socket;
  raw.pause();
  return { ws, raw };
}

/** Writes chunks until the session reports congestion (bounded). */
async function fillUntilCongested(socket: EngineSocket): Promise<number> {
  for (let i = 0; i < 2000 && !socket.congested; i++) {
    socket.send(CHUNK);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return socket.bufferedAmount;
}

test("bufferedAmount grows, congested turns true, and bufferDrain fires when the client reads again", async (t) => {
  const fx = await startEngine();
  t.after(() => fx.close());
  const connected = once<[EngineSocket]>(fx.engine, "connection");
  const { ws, raw } = await stalledClient(fx.port);
  const [socket] = await connected;
  assert.equal(socket.bufferedAmount, 0);
  assert.equal(socket.congested, false);
  const buffered = await within(fillUntilCongested(socket), 20000, "congestion");
  assert.ok(socket.congested, "congested");
  assert.ok(buffered > 0, `bufferedAmount ${buffered}`);
  const drained = once(socket, "bufferDrain");
  raw.resume();
  await within(drained, 10000, "bufferDrain");
  assert.equal(socket.congested, false);
  ws.terminate();
});

test("maxBufferedBytes closes a session whose client stopped reading", async (t) => {
  const fx = await startEngine({ maxBufferedBytes: 1024 * 1024 });
  t.after(() => fx.close());
  const connected = once<[EngineSocket]>(fx.engine, "connection");
  const { ws } = await stalledClient(fx.port);
  const [socket] = await connected;
  const closed = once<[string, Error]>(socket, "close");
  for (let i = 0; i < 5000 && socket.readyState === "open"; i++) {
    socket.send(CHUNK);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const [reason, description] = await within(closed, 20000, "close");
  assert.equal(reason, "transport error");
  assert.match(description.message, /outgoing buffer full/);
  assert.equal(fx.engine.clientsCount, 0);
  ws.terminate();
});

test("a maxBufferedBytes smaller than the open packet ends the session before it is counted", async (t) => {
  const fx = await startEngine({ maxBufferedBytes: 16 });
  t.after(() => fx.close());
  let connections = 0;
  fx.engine.on("connection", () => connections++);
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket`);
  ws.on("error", () => {});
  await within(once(ws, "close"), T, "client close");
  assert.equal(connections, 0);
  assert.equal(fx.engine.clientsCount, 0);
  assert.deepEqual(Object.keys(fx.engine.clients), []);
});

test("without maxBufferedBytes a stalled client is not disconnected (default, as socket.io)", async (t) => {
  const fx = await startEngine();
  t.after(() => fx.close());
  const connected = once<[EngineSocket]>(fx.engine, "connection");
  const { ws } = await stalledClient(fx.port);
  const [socket] = await connected;
  await within(fillUntilCongested(socket), 20000, "congestion");
  assert.equal(socket.readyState, "open");
  ws.terminate();
});

test("socket.io: volatile emits are dropped while the client's connection is congested, others are not", async (t) => {
  const fx = await startIo({ transports: ["websocket"] });
  t.after(() => fx.close());
  const client = connect(fx.url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const [socket] = await within(once<[import("../../src/index").Socket]>(fx.io, "connection"), T, "connection");
  await within(once(client, "connect"), T, "client connect");
  let volatileSeen = 0;
  let lastSeen = 0;
  client.on("v", () => volatileSeen++);
  client.on("last", () => lastSeen++);
  const raw = (client.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
  raw.pause();
  for (let i = 0; i < 2000 && !socket.conn.congested; i++) {
    socket.emit("big", CHUNK);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(socket.conn.congested, "congested");
  for (let i = 0; i < 50; i++) socket.volatile.emit("v", i);
  socket.emit("last");
  const last = once(client, "last");
  raw.resume();
  await within(last, 20000, "last");
  assert.equal(volatileSeen, 0, "volatile packets sent while congested are dropped");
  assert.equal(lastSeen, 1);
  client.disconnect();
});
