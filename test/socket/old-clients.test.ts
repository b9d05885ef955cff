/**
 * socket.io-client v2 (Socket.IO revision 4 over Engine.IO revision 3) against a server
 * with `allowEIO3: true`, over polling, WebSocket and polling upgraded to WebSocket:
 * the implicit join of "/", namespaces with a query, events and acknowledgements both
 * ways with binary, middleware refusals and "Invalid namespace" as the v2 `error` event,
 * disconnects, socket ids (`/chat#<engine id>`), refusal without `allowEIO3`, and v2 and
 * v4 clients side by side on one server.
 *
 * What goes where (query in `handshake.query` and `handshake.auth`, error payloads) was
 * checked against the official socket.io 4.8 server with the same client.
 */
import type { EventEmitter } from "node:events";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import type { ExtendedError, ServerOptions, Socket } from "../../src/index";
import { type IoFixture, ioForTest } from "../socket-helpers";
import { T, once, within } from "../helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The part of the untyped v2 client these tests use. */
interface V2Options {
  transports?: Array<"polling" | "websocket">;
  forceNew?: boolean;
  reconnection?: boolean;
  query?: Record<string, string>;
}
interface V2Socket {
  id: string;
  connected: boolean;
  io: V2Manager;
  on(event: string, fn: (...args: any[]) => void): V2Socket;
  once(event: string, fn: (...args: any[]) => void): V2Socket;
  emit(event: string, ...args: unknown[]): V2Socket;
  disconnect(): V2Socket;
  close(): V2Socket;
}
interface V2Manager {
  engine: { id: string; transport: { name: string } };
  socket(nsp: string, opts?: { query?: Record<string, string> }): V2Socket;
  close(): void;
}
const connectV2: (url: string, opts?: V2Options) => V2Socket = require("socket.io-client-v2");

type Mode = "polling" | "websocket" | "upgrade";
const MODES: Mode[] = ["polling", "websocket", "upgrade"];
const TRANSPORTS: Record<Mode, Array<"polling" | "websocket">> = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

const server = (t: TestContext, opts: Partial<ServerOptions> = { allowEIO3: true }) => ioForTest(t, opts);

/** A v2 client on its own connection, closed when the test ends. */
function v2(t: TestContext, fx: IoFixture, mode: Mode, nsp = "/", query?: Record<string, string>): V2Socket {
  const socket = connectV2(fx.url + nsp, { transports: TRANSPORTS[mode], forceNew: true, reconnection: false, query });
  t.after(() => {
    socket.close();
    socket.io.close();
  });
  return socket;
}

function v2Connected(socket: V2Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("error", (err: unknown) => reject(new Error("v2 error: " + JSON.stringify(err))));
    socket.once("connect_error", (err: Error) => reject(err));
  });
}

/** Resolves with the payload of the v2 `error` event (a refused namespace). */
function v2Refused(socket: V2Socket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    socket.once("error", (data: unknown) => resolve(data));
    socket.once("connect", () => reject(new Error("connected although it should have been refused")));
  });
}

/** In "upgrade" mode, waits until the server has moved the session to WebSocket. */
async function settled(socket: Socket, mode: Mode): Promise<void> {
  if (mode !== "upgrade") {
    assert.equal(socket.conn.transport.name, mode);
    return;
  }
  if (socket.conn.transport.name !== "websocket") await within(once(socket.conn, "upgrade"), T, "upgrade");
  assert.equal(socket.conn.transport.name, "websocket");
}

/** Resolves once a polling session has a GET waiting (so a close is answered on it). */
async function pollWaiting(socket: Socket): Promise<void> {
  const transport = socket.conn.transport as unknown as EventEmitter & { name: string; writable: boolean };
  if (transport.name !== "polling" || transport.writable) return;
  await within(once(transport, "ready"), T, "waiting poll");
}

function bytes(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`expected binary data, got ${typeof data}`);
}

function reason(emitter: Socket | V2Socket | ClientSocket): Promise<string> {
  return once<[string]>(emitter, "disconnect").then(([r]) => r);
}

for (const mode of MODES) {
  test(`v2 joins "/" implicitly; its socket id is the engine id (${mode})`, async (t) => {
    const fx = await server(t);
    const connection = once<[Socket]>(fx.io, "connection");
    const client = v2(t, fx, mode, "/", { a: "1" });
    await within(v2Connected(client), T, "connect");
    const [socket] = await within(connection, T, "server connection");
    await settled(socket, mode);
    assert.equal(socket.conn.protocol, 3);
    assert.equal(socket.id, socket.conn.id);
    assert.equal(client.id, socket.id);
    assert.equal(client.io.engine.id, socket.conn.id);
    assert.equal(socket.handshake.query.a, "1");
    assert.equal(socket.handshake.query.EIO, "3");
    assert.deepEqual(socket.handshake.auth, {});
    assert.deepEqual([...socket.rooms], [socket.id]);
  });

  test(`v2 joins /chat with a query: in handshake.auth, id "/chat#<engine id>" (${mode})`, async (t) => {
    const fx = await server(t);
    const root = once<[Socket]>(fx.io, "connection");
    const chat = once<[Socket]>(fx.io.of("/chat"), "connection");
    const client = v2(t, fx, mode, "/chat", { token: "abc" });
    await within(v2Connected(client), T, "connect");
    const [socket] = await within(chat, T, "server /chat connection");
    await settled(socket, mode);
    assert.equal(socket.id, "/chat#" + socket.conn.id);
    assert.equal(client.id, socket.id);
    assert.deepEqual(socket.handshake.auth, { token: "abc" }, "the namespace query becomes the auth payload");
    assert.equal(socket.handshake.query.token, "abc", "the client also puts it in the engine URL");
    // A v2 connection is always in "/" as well, on the same engine session.
    const [rootSocket] = await within(root, T, "server / connection");
    assert.equal(rootSocket.conn, socket.conn);
    assert.equal(fx.io.engine.clientsCount, 1);

    // A second namespace with its own query, multiplexed on the same manager.
    const news = once<[Socket]>(fx.io.of("/news"), "connection");
    const second = client.io.socket("/news", { query: { x: "y z" } });
    await within(v2Connected(second), T, "connect /news");
    const [newsSocket] = await within(news, T, "server /news connection");
    assert.deepEqual(newsSocket.handshake.auth, { x: "y z" });
    assert.equal(newsSocket.id, "/news#" + socket.conn.id);
    assert.equal(newsSocket.conn, socket.conn);
  });

  test(`v2 events and acknowledgements both ways, with binary (${mode})`, async (t) => {
    const fx = await server(t);
    const chat = once<[Socket]>(fx.io.of("/chat"), "connection");
    const client = v2(t, fx, mode, "/chat");
    const hello = new Promise<[unknown, unknown, (...a: unknown[]) => void]>((resolve) =>
      client.on("hello", (data: unknown, text: unknown, cb: (...a: unknown[]) => void) => resolve([data, text, cb])),
    );
    await within(v2Connected(client), T, "connect");
    const [socket] = await within(chat, T, "server connection");
    await settled(socket, mode);

    // client → server, answered with binary
    socket.on("upload", (file: unknown, meta: unknown, cb: (...a: unknown[]) => void) => {
      assert.deepEqual(bytes(file), Buffer.from([0, 1, 255]));
      assert.deepEqual(meta, { name: "f", n: 2 });
      cb(Buffer.from([9, 8]), "stored");
    });
    const answer = await within(
      new Promise<unknown[]>((resolve) =>
        client.emit("upload", Buffer.from([0, 1, 255]), { name: "f", n: 2 }, (...a: unknown[]) => resolve(a)),
      ),
      T,
      "client ack",
    );
    assert.equal(answer.length, 2);
    assert.deepEqual(bytes(answer[0]), Buffer.from([9, 8]));
    assert.equal(answer[1], "stored");

    // server → client, answered
    const serverAck = new Promise<unknown[]>((resolve) =>
      socket.emit("hello", { nested: [Buffer.from([1, 2, 3])] }, "héllo ✓", (...a: unknown[]) => resolve(a)),
    );
    const [data, text, cb] = await within(hello, T, "hello");
    assert.deepEqual(bytes((data as { nested: unknown[] }).nested[0]), Buffer.from([1, 2, 3]));
    assert.equal(text, "héllo ✓");
    cb("thanks", Buffer.from([7]));
    const got = await within(serverAck, T, "server ack");
    assert.equal(got[0], "thanks");
    assert.deepEqual(bytes(got[1]), Buffer.from([7]));

    // An ack Promise works with v2 too.
    client.on("q", (n: number, reply: (v: number) => void) => reply(n * 2));
    assert.equal(await within(socket.emitWithAck("q", 21), T, "emitWithAck"), 42);
  });

  test(`v2 refused by a middleware gets the error event with data or message (${mode})`, async (t) => {
    const fx = await server(t);
    let connections = 0;
    const withData = fx.io.of("/mw");
    withData.use((_s, next) => {
      const err: ExtendedError = new Error("nope");
      err.data = { why: 1 };
      next(err);
    });
    withData.on("connection", () => connections++);
    fx.io.of("/mw2").use((_s, next) => next(new Error("plain")));
    const first = v2(t, fx, mode, "/mw");
    assert.deepEqual(await within(v2Refused(first), T, "refusal with data"), { why: 1 });
    const second = v2(t, fx, mode, "/mw2");
    assert.equal(await within(v2Refused(second), T, "refusal without data"), "plain");
    assert.equal(connections, 0);
    assert.equal(first.connected, false);
  });

  test(`v2 refused on "/" by io.use() gets the error event; dynamic namespaces see its query (${mode})`, async (t) => {
    const fx = await server(t);
    fx.io.use((socket, next) => next(socket.handshake.query.pass === "yes" ? undefined : new Error("root says no")));
    const refusedClient = v2(t, fx, mode, "/");
    assert.equal(await within(v2Refused(refusedClient), T, "refusal on /"), "root says no");

    const asked: Array<[string, unknown]> = [];
    fx.io.of((name, auth, next) => {
      asked.push([name, auth]);
      next(null, name.startsWith("/dyn-"));
    });
    const dynamic = once<[Socket]>(fx.io.of("/"), "connection");
    const child = v2(t, fx, mode, "/dyn-1", { pass: "yes", k: "v" });
    await within(v2Connected(child), T, "connect /dyn-1");
    await within(dynamic, T, "/ accepted with the right query");
    assert.deepEqual(asked, [["/dyn-1", { pass: "yes", k: "v" }]]);
    assert.equal(child.id, "/dyn-1#" + child.io.engine.id);
  });

  test(`v2 to an unknown namespace gets "Invalid namespace" (${mode})`, async (t) => {
    const fx = await server(t);
    const client = v2(t, fx, mode, "/nope");
    assert.deepEqual(await within(v2Refused(client), T, "refusal"), { message: "Invalid namespace" });
    assert.equal(fx.io._nsps.has("/nope"), false);
  });

  test(`v2 disconnects: client namespace, server namespace, server shutdown (${mode})`, async (t) => {
    const fx = await server(t);
    const root = once<[Socket]>(fx.io, "connection");
    const chat = once<[Socket]>(fx.io.of("/chat"), "connection");
    const client = v2(t, fx, mode, "/chat");
    await within(v2Connected(client), T, "connect /chat");
    const [chatSocket] = await within(chat, T, "server /chat");
    const [rootSocket] = await within(root, T, "server /");
    await settled(chatSocket, mode);

    // The client leaves /chat; "/" stays.
    const serverChat = reason(chatSocket);
    const clientChat = reason(client);
    client.disconnect();
    assert.equal(await within(serverChat, T, "server /chat reason"), "client namespace disconnect");
    assert.equal(await within(clientChat, T, "client /chat reason"), "io client disconnect");
    assert.equal(rootSocket.connected, true);

    // The server disconnects "/" of a second connection.
    const root2 = once<[Socket]>(fx.io, "connection");
    const other = v2(t, fx, mode, "/");
    await within(v2Connected(other), T, "connect second");
    const [otherSocket] = await within(root2, T, "second server socket");
    await settled(otherSocket, mode);
    const serverSide = reason(otherSocket);
    const clientSide = reason(other);
    otherSocket.disconnect();
    assert.equal(await within(serverSide, T, "server reason"), "server namespace disconnect");
    assert.equal(await within(clientSide, T, "client reason"), "io server disconnect");

    // io.close() ends the rest.
    const third = once<[Socket]>(fx.io, "connection");
    const last = v2(t, fx, mode, "/");
    await within(v2Connected(last), T, "connect third");
    const [lastSocket] = await within(third, T, "third server socket");
    await settled(lastSocket, mode);
    const shutdown = reason(lastSocket);
    const lastClient = reason(last);
    await pollWaiting(lastSocket);
    await within(fx.io.close(), T, "io.close()");
    assert.equal(await within(shutdown, T, "shutdown reason"), "server shutting down");
    assert.equal(await within(lastClient, T, "client reason"), "transport close");
  });
}

test("a server without allowEIO3 refuses the v2 client", async (t) => {
  const fx = await server(t, {});
  const refusals: Array<[number, string]> = [];
  fx.io.engine.on("connection_error", (err: { code: number; message: string }) => refusals.push([err.code, err.message]));
  let connections = 0;
  fx.io.on("connection", () => connections++);
  for (const mode of ["polling", "websocket"] as const) {
    const client = v2(t, fx, mode);
    const err = await within(once<[Error]>(client, "connect_error"), T, `connect_error (${mode})`);
    assert.ok(err[0] instanceof Error);
    assert.equal(client.connected, false);
  }
  assert.equal(connections, 0);
  assert.equal(fx.io.engine.clientsCount, 0);
  assert.deepEqual(refusals, [
    [5, "Unsupported protocol version"],
    [5, "Unsupported protocol version"],
  ]);
});

test("v2 and v4 clients together on one server", async (t) => {
  const fx = await server(t);
  const { io } = fx;
  const chat = io.of("/chat");
  chat.on("connection", (socket) => {
    void socket.join("room");
    socket.on("say", (text: string) => socket.broadcast.emit("said", socket.id, text));
    socket.on("who", (cb: (id: string, protocol: number) => void) => cb(socket.id, socket.conn.protocol));
  });
  const serverSockets: Socket[] = [];
  chat.on("connection", (socket) => serverSockets.push(socket));

  const v2Polling = v2(t, fx, "polling", "/chat");
  const v2Ws = v2(t, fx, "websocket", "/chat");
  const v4 = fx.client("/chat", { transports: ["websocket"] });
  const v4Polling = fx.client("/chat", { transports: ["polling"] });
  await within(
    Promise.all([
      v2Connected(v2Polling),
      v2Connected(v2Ws),
      new Promise<void>((resolve) => v4.once("connect", () => resolve())),
      new Promise<void>((resolve) => v4Polling.once("connect", () => resolve())),
    ]),
    T,
    "all connected",
  );
  assert.equal(chat.sockets.size, 4);

  // Ids: the v2 ones are derived from the engine id, the v4 ones never are.
  for (const s of serverSockets) {
    if (s.conn.protocol === 3) assert.equal(s.id, "/chat#" + s.conn.id);
    else assert.ok(!s.id.includes(s.conn.id));
  }
  assert.equal(v4.id && chat.sockets.get(v4.id)?.conn.protocol, 4);

  // One broadcast with binary reaches every client, whatever its protocol.
  const all = [v2Polling, v2Ws, v4, v4Polling];
  const received = all.map((c) => once<[unknown, string]>(c as { once(e: string, f: (...a: any[]) => void): unknown }, "news"));
  chat.to("room").emit("news", Buffer.from([4, 2]), "binary for all");
  for (const [data, text] of await within(Promise.all(received), T, "broadcast")) {
    assert.deepEqual(bytes(data), Buffer.from([4, 2]));
    assert.equal(text, "binary for all");
  }

  // A v2 client's event is relayed to the others (v4 included), not back to itself.
  const relayed = [v2Ws, v4, v4Polling].map((c) =>
    once<[string, string]>(c as { once(e: string, f: (...a: any[]) => void): unknown }, "said"),
  );
  v2Polling.emit("say", "from v2");
  for (const [from, text] of await within(Promise.all(relayed), T, "relay")) {
    assert.equal(from, v2Polling.id);
    assert.equal(text, "from v2");
  }

  // A broadcast with acknowledgements collects answers from both generations.
  v2Polling.on("vote", (cb: (v: string) => void) => cb("v2-polling"));
  v2Ws.on("vote", (cb: (v: string) => void) => cb("v2-ws"));
  v4.on("vote", (cb: (v: string) => void) => cb("v4-ws"));
  v4Polling.on("vote", (cb: (v: string) => void) => cb("v4-polling"));
  const votes = await within(chat.timeout(T).emitWithAck("vote"), T, "votes");
  assert.deepEqual((votes as string[]).sort(), ["v2-polling", "v2-ws", "v4-polling", "v4-ws"]);
});
