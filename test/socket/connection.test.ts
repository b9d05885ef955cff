/**
 * Connecting, with the official socket.io-client v4 over WebSocket only and polling only:
 * the ways to make a server (`new Server()` + `attach`, a port, an HTTP server with
 * options, the callable CommonJS export), the `connection` event, socket ids, the
 * handshake, the socket's own properties, `io.engine.clientsCount` and `connectTimeout`.
 */
import { test, describe, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { Socket as EngineClient } from "engine.io-client";
import { Client, Server, Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { T, once, within, quiet } from "../helpers";
import { MODES, UPGRADE, collect, connectPair, type Mode } from "./core-util";

async function fixture(t: TestContext, opts: Parameters<typeof startIo>[0] = {}): Promise<IoFixture> {
  const fx = await startIo(opts);
  t.after(() => fx.close());
  return fx;
}

function listen(http: HttpServer): Promise<number> {
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port)));
}

/** A port nobody listens on right now (for `new Server(port)`). */
function freePort(): Promise<number> {
  const probe = createNetServer();
  return new Promise((resolve) =>
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    }),
  );
}

/** A client of our own (not from a fixture), closed when the test ends. */
function ownClient(t: TestContext, url: string, mode: Mode, opts: Parameters<typeof connect>[1] = {}): ClientSocket {
  const client = connect(url, { forceNew: true, reconnection: false, transports: mode.transports, ...opts });
  t.after(() => {
    client.disconnect();
  });
  return client;
}

/** Resolves with the server-side socket once the client has connected too. */
async function connectedOn(io: Server, client: ClientSocket, what: string): Promise<Socket> {
  const [[socket]] = await within(Promise.all([once<[Socket]>(io, "connection"), once(client, "connect")]), T, what);
  assert.equal(socket.id, client.id);
  return socket;
}

for (const mode of MODES) {
  describe(`connection over ${mode.name}`, () => {
    // ---- making a server ----

    test("new Server() then attach(httpServer): clients connect", async (t) => {
      const http = createServer();
      const io = new Server();
      t.after(() => io.close());
      assert.equal(io.attach(http), io, "attach returns the server");
      assert.equal(io.httpServer, http);
      const port = await listen(http);
      const client = ownClient(t, `http://127.0.0.1:${port}`, mode);
      const socket = await connectedOn(io, client, "connect after attach");
      assert.equal(socket.conn.transport.name, mode.transports[0]);
    });

    test("attach(httpServer, { path }) serves that path; listen() is attach()", async (t) => {
      const http = createServer();
      const io = new Server();
      t.after(() => io.close());
      io.listen(http, { path: "/custom" });
      const port = await listen(http);
      const client = ownClient(t, `http://127.0.0.1:${port}`, mode, { path: "/custom" });
      await connectedOn(io, client, "connect on /custom");
      assert.equal(client.io.engine.transport.name, mode.transports[0]);
    });

    test("new Server(port) creates and listens on its own HTTP server", async (t) => {
      const port = await freePort();
      const io = new Server(port);
      t.after(() => io.close());
      assert.ok(io.httpServer, "an HTTP server was created");
      if (!io.httpServer.listening) await within(once(io.httpServer, "listening"), T, "listening");
      assert.equal((io.httpServer.address() as AddressInfo).port, port);
      const client = ownClient(t, `http://127.0.0.1:${port}`, mode);
      await connectedOn(io, client, "connect to new Server(port)");
    });

    test("new Server(httpServer, opts) applies the options", async (t) => {
      const http = createServer();
      const io = new Server(http, { path: "/my-io", pingInterval: 4321, connectTimeout: 1234 });
      t.after(() => io.close());
      assert.equal(io.path(), "/my-io");
      assert.equal(io.connectTimeout(), 1234);
      assert.equal(io.engine.opts.pingInterval, 4321);
      const port = await listen(http);
      const client = ownClient(t, `http://127.0.0.1:${port}`, mode, { path: "/my-io" });
      await connectedOn(io, client, "connect on /my-io");
    });

    test("the CommonJS export is callable: require(dist)(httpServer)", async (t) => {
      // The callable export is added to dist/index.js by `npm run build` (scripts/cjs-callable.mjs).
      const dist = join(__dirname, "..", "..", "..", "dist", "index.js");
      if (!existsSync(dist)) return t.skip("dist/index.js missing: run `npm run build` first");
      const volley = require(dist) as ((srv?: HttpServer, opts?: object) => Server) & { Server: typeof Server };
      assert.equal(typeof volley, "function");
      assert.equal(typeof volley.Server, "function", "named exports are kept");
      const http = createServer();
      const io = volley(http, { path: "/cjs" });
      t.after(() => io.close());
      assert.ok(io instanceof volley.Server);
      const port = await listen(http);
      const client = ownClient(t, `http://127.0.0.1:${port}`, mode, { path: "/cjs" });
      await connectedOn(io, client, "connect to the callable export");
    });

    // ---- the connection ----

    test("connection and connect fire once per client, on io and on io.of('/')", async (t) => {
      const fx = await fixture(t);
      const seen: string[] = [];
      fx.io.on("connection", (s) => seen.push("io.connection:" + s.id));
      fx.io.on("connect", (s) => seen.push("io.connect:" + s.id));
      fx.io.of("/").on("connection", (s) => seen.push("nsp.connection:" + s.id));
      const a = await connectPair(fx, mode);
      const b = await connectPair(fx, mode);
      await quiet(50);
      const expected = [a, b].flatMap(({ socket }) => ["io.connection", "io.connect", "nsp.connection"].map((e) => e + ":" + socket.id));
      assert.deepEqual([...seen].sort(), expected.sort());
      assert.equal(fx.io.of("/"), fx.io.sockets);
      assert.equal(fx.io.sockets.sockets.size, 2);
    });

    test("socket.id: not the engine id, unique, and the client's id", async (t) => {
      const fx = await fixture(t);
      const pairs = await Promise.all([0, 1, 2].map(() => connectPair(fx, mode)));
      const ids = new Set<string>();
      for (const { client, socket } of pairs) {
        assert.match(socket.id, /^[\w-]{20}$/);
        assert.notEqual(socket.id, socket.conn.id, "the socket id must not reveal the engine id");
        assert.equal(socket.id, client.id);
        assert.equal(socket.conn.id, client.io.engine.id);
        ids.add(socket.id);
        ids.add(socket.conn.id);
      }
      assert.equal(ids.size, 6, "every socket id and engine id is distinct");
      assert.deepEqual(new Set(fx.io.sockets.sockets.keys()), new Set(pairs.map((p) => p.socket.id)));
    });

    test("socket properties: data, connected, disconnected, recovered, conn, request, client", async (t) => {
      const fx = await fixture(t);
      fx.io.use((socket, next) => {
        // Before it connects: not connected yet, data already usable.
        assert.equal(socket.connected, false);
        socket.data.fromMiddleware = 42;
        next();
      });
      const { client, socket } = await connectPair(fx, mode);
      assert.deepEqual(socket.data, { fromMiddleware: 42 });
      socket.data = { user: "ann" };
      assert.deepEqual(socket.data, { user: "ann" });
      assert.equal(socket.connected, true);
      assert.equal(socket.disconnected, false);
      assert.equal(socket.recovered, false);
      assert.equal(socket.nsp, fx.io.sockets);
      assert.ok(socket.client instanceof Client);
      assert.equal(socket.client.conn, socket.conn);
      assert.equal(socket.conn.readyState, "open");
      assert.equal(socket.conn.transport.name, mode.transports[0]);
      assert.equal(socket.request, socket.conn.request);
      assert.equal(socket.request.headers.host, `127.0.0.1:${fx.port}`);

      const disconnected = once<[string]>(socket, "disconnect");
      client.disconnect();
      assert.deepEqual(await within(disconnected, T, "disconnect"), ["client namespace disconnect", undefined]);
      assert.equal(socket.connected, false);
      assert.equal(socket.disconnected, true);
      assert.equal(fx.io.sockets.sockets.has(socket.id), false);
    });

    test("socket.io's memory tip works: dropping rawSocket.request on engine connection", async (t) => {
      const fx = await fixture(t);
      fx.io.engine.on("connection", (rawSocket: { request: unknown }) => {
        rawSocket.request = null;
      });
      const { client, socket } = await connectPair(fx, mode, { auth: { token: "t" } });
      assert.equal(socket.request, null);
      assert.deepEqual(socket.handshake.auth, { token: "t" });
      assert.deepEqual(socket.handshake.headers, {});
      assert.equal(socket.handshake.address, "127.0.0.1");
      socket.on("echo", (value: number, ack: (v: number) => void) => ack(value));
      assert.equal(await within(client.emitWithAck("echo", 7), T, "echo"), 7);
      const disconnected = once<[string]>(socket, "disconnect");
      client.disconnect();
      assert.deepEqual(await within(disconnected, T, "disconnect"), ["client namespace disconnect", undefined]);
    });

    test("an emit from a middleware, before the CONNECT, reaches the client after it connected", async (t) => {
      const fx = await fixture(t);
      fx.io.use((socket, next) => {
        socket.emit("early", 1);
        next();
      });
      fx.io.on("connection", (socket) => socket.emit("early", 2));
      const client = fx.client("/", { transports: mode.transports });
      const seen: string[] = [];
      client.on("connect", () => seen.push("connect"));
      const both = collect<[number]>(client, "early", 2);
      client.on("early", (n: number) => seen.push(`early ${n}:${client.connected}`));
      await within(both, T, "early events");
      // socket.io-client holds events that come before the CONNECT and emits them, once
      // connected, just before its own "connect" event.
      assert.deepEqual(seen, ["early 1:true", "connect", "early 2:true"]);
    });

    test("socket.rooms holds the socket's own id, and is emptied on disconnect", async (t) => {
      const fx = await fixture(t);
      const { client, socket } = await connectPair(fx, mode);
      assert.ok(socket.rooms instanceof Set);
      assert.deepEqual([...socket.rooms], [socket.id]);
      assert.deepEqual([...(fx.io.sockets.adapter.rooms.get(socket.id) ?? [])], [socket.id]);
      const disconnected = once(socket, "disconnect");
      client.disconnect();
      await within(disconnected, T, "disconnect");
      assert.equal(socket.rooms.size, 0);
      assert.equal(fx.io.sockets.adapter.rooms.has(socket.id), false);
      assert.equal(fx.io.sockets.adapter.sids.has(socket.id), false);
    });

    test("io.engine.clientsCount follows connections", async (t) => {
      const fx = await fixture(t);
      assert.equal(fx.io.engine.clientsCount, 0);
      const pairs = await Promise.all([0, 1, 2].map(() => connectPair(fx, mode)));
      assert.equal(fx.io.engine.clientsCount, 3);
      const closed = once(pairs[0].socket.conn, "close");
      pairs[0].client.disconnect();
      await within(closed, T, "engine close");
      assert.equal(fx.io.engine.clientsCount, 2);
      assert.equal(fx.io.sockets.sockets.size, 2);
    });
  });

  // ---- connectTimeout ----

  test(`connectTimeout: a connection that never joins a namespace is closed (${mode.name})`, async (t) => {
    const fx = await fixture(t, { connectTimeout: 300 });
    // A real Socket.IO client on the same server: it joined "/" and must stay.
    const healthy = await connectPair(fx, mode);
    const healthyEvents: string[] = [];
    healthy.client.on("disconnect", (r) => healthyEvents.push("disconnect:" + r));

    const engineConnection = once<[{ id: string; once(ev: string, fn: (reason: string) => void): void }]>(fx.io.engine, "connection");
    const raw = new EngineClient(fx.url, { path: "/socket.io", transports: mode.transports });
    t.after(() => raw.close());
    const opened = Date.now();
    await within(once(raw, "open"), T, "raw engine open");
    const [conn] = await within(engineConnection, T, "engine connection");
    assert.equal(fx.io.engine.clientsCount, 2);
    const serverClosed = new Promise<string>((resolve) => conn.once("close", resolve));
    await within(once(raw, "close"), T, "raw client closed by the server");
    const elapsed = Date.now() - opened;
    assert.ok(elapsed >= 250, `closed after ${elapsed} ms, before connectTimeout`);
    assert.equal(await within(serverClosed, T, "server side close"), "forced close");
    assert.equal(fx.io.engine.clientsCount, 1);

    await quiet(400);
    assert.deepEqual(healthyEvents, [], "a client that joined a namespace is not closed");
    assert.equal(healthy.client.connected, true);
    assert.equal(healthy.socket.connected, true);
  });

  test(`connectTimeout: CONNECT sent in time keeps the connection (${mode.name})`, async (t) => {
    const fx = await fixture(t, { connectTimeout: 200 });
    const raw = new EngineClient(fx.url, { path: "/socket.io", transports: mode.transports });
    t.after(() => raw.close());
    await within(once(raw, "open"), T, "raw engine open");
    const connected = collect<[string]>(raw, "message", 1);
    raw.send("0");
    const [[reply]] = await within(connected, T, "CONNECT reply");
    assert.match(reply, /^0\{"sid":"[\w-]{20}"\}$/);
    let closed = false;
    raw.on("close", () => (closed = true));
    await quiet(400);
    assert.equal(closed, false);
    assert.equal(fx.io.engine.clientsCount, 1);
    assert.equal(fx.io.sockets.sockets.size, 1);
  });
}

// ---- the handshake (also after an upgrade: it describes the first request) ----

for (const hmode of [...MODES, UPGRADE]) {
  test(`handshake fields (${hmode.name})`, async (t) => {
    const fx = await fixture(t);
    const before = Date.now();
    const { socket } = await connectPair(fx, hmode, {
      auth: { token: "abc", n: 1 },
      query: { room: "r1", tag: "x y" },
      extraHeaders: { "x-test": "yes" },
    });
    const after = Date.now();
    const hs = socket.handshake;
    const first = hmode.transports[0];
    assert.equal(hs.headers["x-test"], "yes");
    assert.equal(hs.headers.host, `127.0.0.1:${fx.port}`);
    assert.equal(typeof hs.time, "string");
    // A Date string (second precision) of the same moment as `issued`.
    assert.ok(Math.abs(Date.parse(hs.time) - hs.issued) < 1000, `time ${hs.time} vs issued ${hs.issued}`);
    assert.equal(typeof hs.issued, "number");
    assert.ok(hs.issued >= before && hs.issued <= after, `issued ${hs.issued} in [${before}, ${after}]`);
    assert.match(hs.address, /^(::ffff:)?127\.0\.0\.1$/);
    assert.equal(hs.xdomain, false);
    assert.equal(hs.secure, false);
    assert.ok(hs.url.startsWith("/socket.io/?"), hs.url);
    const url = new URL(hs.url, "http://x");
    assert.equal(url.searchParams.get("room"), "r1");
    assert.equal(url.searchParams.get("tag"), "x y");
    assert.equal(url.searchParams.get("EIO"), "4");
    assert.equal(url.searchParams.get("transport"), first);
    assert.equal(hs.query.room, "r1");
    assert.equal(hs.query.tag, "x y");
    assert.equal(hs.query.EIO, "4");
    assert.equal(hs.query.transport, first);
    assert.equal(hs.query.sid, undefined, "the first request has no session id");
    if (first === "polling") assert.equal(typeof hs.query.t, "string");
    assert.deepEqual(hs.auth, { token: "abc", n: 1 });
    assert.equal(socket.handshake, hs, "the same object each time");
    if (hmode.upgrade) assert.equal(socket.conn.transport.name, "websocket");
  });

  test(`handshake without auth nor query; with an Origin header: xdomain (${hmode.name})`, async (t) => {
    const fx = await fixture(t);
    const plain = await connectPair(fx, hmode);
    assert.deepEqual(plain.socket.handshake.auth, {});
    assert.deepEqual(Object.keys(plain.socket.handshake.query).filter((k) => k !== "t").sort(), ["EIO", "transport"]);
    const cross = await connectPair(fx, hmode, { extraHeaders: { origin: "http://elsewhere.example" } });
    assert.equal(cross.socket.handshake.xdomain, true);
    assert.equal(cross.socket.handshake.headers.origin, "http://elsewhere.example");
  });
}
