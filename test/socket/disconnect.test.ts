/**
 * Every disconnect reason, with the official clients over polling and WebSocket, checked
 * on both ends where the client can see it: namespace disconnects from either side,
 * `disconnect(true)`, transport close and error, ping timeout, parse errors (Socket.IO
 * and Engine.IO level), server shutdown, forced server close and the connect timeout.
 * Also `disconnecting` before `disconnect`, everything `io.close()` releases, and what
 * becomes of acknowledgements still pending when a socket goes.
 *
 * The client-side strings are those the official socket.io 4.8 server produces with the
 * same clients (these tests were also run against it). Three deliberate differences,
 * marked below: an invalid Socket.IO packet gives "parse error" (socket.io 4.8 closes the
 * engine first and reports "forced close"), pending acknowledgements are dropped from
 * `socket.acks` at disconnect, and `io.close()` works on a server never attached.
 */
import type { EventEmitter } from "node:events";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer as createNetServer } from "node:net";
import { WebSocket } from "ws";
import { Socket as EngineClient } from "engine.io-client";
import { Manager, type Socket as ClientSocket } from "socket.io-client";
import { Adapter, Server, type Namespace, type Socket } from "../../src/index";
import { type IoFixture, connected, ioForTest } from "../socket-helpers";
import { T, once, within, quiet } from "../helpers";

type Transport = "polling" | "websocket";
const BOTH: Transport[] = ["polling", "websocket"];

/** socket.io-client sockets for `nsps`, all over one engine connection. */
async function multiplexed(t: TestContext, fx: IoFixture, transport: Transport, nsps: string[]) {
  const manager = new Manager(fx.url, { transports: [transport], reconnection: false });
  const sockets = nsps.map((nsp) => manager.socket(nsp).connect());
  t.after(() => {
    for (const s of sockets) s.disconnect();
    manager.engine?.close();
  });
  await within(Promise.all(sockets.map(connected)), T, "multiplexed connect");
  return { manager, sockets };
}

/** Connects one client to `nsp` and returns both ends. */
async function pair(fx: IoFixture, transport: Transport, nsp = "/"): Promise<{ client: ClientSocket; socket: Socket }> {
  const connection = once<[Socket]>(fx.io.of(nsp), "connection");
  const client = fx.client(nsp, { transports: [transport] });
  await within(connected(client), T, `connect ${nsp}`);
  const [socket] = await within(connection, T, "server connection");
  return { client, socket };
}

/** The server socket of `nsp` whose engine connection is `engineId`. */
function serverSocket(io: Server, nsp: string, engineId: string): Socket {
  const found = [...io.of(nsp).sockets.values()].find((s) => s.conn.id === engineId);
  assert.ok(found, `no server socket on ${nsp} for ${engineId}`);
  return found;
}

function reason(emitter: Socket | ClientSocket): Promise<string> {
  return once<[string]>(emitter, "disconnect").then(([r]) => r);
}

function ask(socket: ClientSocket, ev: string): Promise<unknown[]> {
  return new Promise((resolve) => socket.emit(ev, (...answer: unknown[]) => resolve(answer)));
}

/** A raw Engine.IO client on the Socket.IO path, joined to "/" by hand. */
async function rawClient(t: TestContext, fx: IoFixture, transport: Transport, join = true): Promise<EngineClient> {
  const engine = new EngineClient(fx.url, { path: "/socket.io/", transports: [transport] });
  t.after(() => engine.close());
  await within(once(engine, "open"), T, "engine open");
  if (join) {
    const answer = once<[string]>(engine, "message");
    engine.send("0");
    const [packet] = await within(answer, T, "CONNECT answer");
    assert.match(String(packet), /^0\{"sid":"[\w-]{20}"\}$/);
  }
  return engine;
}

/**
 * Resolves once a polling session has a GET waiting, so that what the server does next
 * is answered on it (rather than racing with the client's next poll).
 */
async function pollWaiting(socket: Socket): Promise<void> {
  const transport = socket.conn.transport as unknown as EventEmitter & { name: string; writable: boolean };
  if (transport.name !== "polling" || transport.writable) return;
  await within(once(transport, "ready"), T, "waiting poll");
}

/** One multiplexed client on "/" (which answers "ping") and "/a", with the server socket of "/a". */
async function rootAndA(t: TestContext, transport: Transport) {
  const fx = await ioForTest(t);
  fx.io.of("/a");
  fx.io.on("connection", (s) => s.on("ping", (cb: () => void) => cb()));
  const { manager, sockets } = await multiplexed(t, fx, transport, ["/", "/a"]);
  const [root, a] = sockets;
  return { fx, manager, root, a, serverA: serverSocket(fx.io, "/a", manager.engine.id) };
}

for (const transport of BOTH) {
  // ---- namespace-level disconnects ----

  test(`client socket.disconnect(): "client namespace disconnect", other namespaces stay (${transport})`, async (t) => {
    const { fx, manager, root, a, serverA } = await rootAndA(t, transport);
    const serverSide = reason(serverA);
    const clientSide = reason(a);
    a.disconnect();
    assert.equal(await within(serverSide, T, "server reason"), "client namespace disconnect");
    assert.equal(await within(clientSide, T, "client reason"), "io client disconnect");
    assert.equal(serverA.connected, false);
    assert.equal(fx.io.of("/a").sockets.size, 0);
    await within(ask(root, "ping"), T, "/ still answers");
    assert.equal(fx.io.engine.clientsCount, 1, "the engine session stays for /");

    // Leaving the last namespace also closes the engine connection.
    const rootSide = reason(serverSocket(fx.io, "/", manager.engine.id));
    const conn = fx.io.engine.clients[manager.engine.id];
    const connClosed = once<[string]>(conn, "close");
    root.disconnect();
    assert.equal(await within(rootSide, T, "server / reason"), "client namespace disconnect");
    assert.equal((await within(connClosed, T, "engine close"))[0], "transport close");
    assert.equal(fx.io.engine.clientsCount, 0);
  });

  test(`server socket.disconnect(): "server namespace disconnect", other namespaces stay (${transport})`, async (t) => {
    const { root, a, serverA } = await rootAndA(t, transport);
    const serverSide = reason(serverA);
    const clientSide = reason(a);
    serverA.disconnect();
    assert.equal(await within(serverSide, T, "server reason"), "server namespace disconnect");
    assert.equal(await within(clientSide, T, "client reason"), "io server disconnect");
    assert.equal(serverA.disconnected, true);
    await within(ask(root, "ping"), T, "/ still answers");
    assert.equal(root.connected, true);
  });

  test(`server socket.disconnect(true) closes the whole connection (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.of("/a");
    const { manager, sockets } = await multiplexed(t, fx, transport, ["/", "/a"]);
    const serverRoot = serverSocket(fx.io, "/", manager.engine.id);
    const serverA = serverSocket(fx.io, "/a", manager.engine.id);
    const reasons = Promise.all([reason(serverRoot), reason(serverA), reason(sockets[0]), reason(sockets[1])]);
    const connClosed = once(serverA.conn, "close");
    const managerClosed = once<[string]>(manager, "close");
    serverA.disconnect(true);
    assert.deepEqual(await within(reasons, T, "reasons"), [
      "server namespace disconnect",
      "server namespace disconnect",
      "io server disconnect",
      "io server disconnect",
    ]);
    await within(connClosed, T, "engine connection closed");
    assert.equal((await within(managerClosed, T, "client engine closed"))[0], "forced close");
    assert.equal(fx.io.engine.clientsCount, 0);
  });

  // ---- transport-level disconnects ----

  test(`the client goes away without a word (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const { client, socket } = await pair(fx, transport);
    const serverSide = reason(socket);
    const clientSide = reason(client);
    if (transport === "websocket") {
      // Drop the TCP connection under the client's WebSocket: no close frame.
      (client.io.engine.transport as unknown as { ws: WebSocket }).ws.terminate();
      assert.equal(await within(serverSide, T, "server reason"), "transport close");
      assert.equal(await within(clientSide, T, "client reason"), "transport close");
    } else {
      // The pending long-poll's connection ends before it was answered.
      await pollWaiting(socket);
      fx.http.closeAllConnections();
      assert.equal(await within(serverSide, T, "server reason"), "transport error");
      assert.equal(await within(clientSide, T, "client reason"), "transport error");
    }
  });

  test(`a client that stops answering pings: "ping timeout" (${transport})`, async (t) => {
    const fx = await ioForTest(t, { pingInterval: 150, pingTimeout: 100 });
    const silent = await pair(fx, transport);
    const healthy = await pair(fx, transport);
    // Patch the official client so that it swallows its pongs (its private send method).
    const engine = silent.client.io.engine as unknown as { _sendPacket(type: string, ...rest: unknown[]): void };
    const send = engine._sendPacket;
    engine._sendPacket = function (type: string, ...rest: unknown[]) {
      if (type !== "pong") send.call(this, type, ...rest);
    };
    const start = Date.now();
    const serverSide = reason(silent.socket);
    const clientSide = reason(silent.client);
    assert.equal(await within(serverSide, T, "server reason"), "ping timeout");
    assert.ok(Date.now() - start >= 80, "not before the ping timeout could have run out");
    assert.equal(await within(clientSide, T, "client reason"), "transport close");
    assert.equal(healthy.socket.connected, true, "a client that answers stays");
    assert.equal(healthy.client.connected, true);
  });

  /** One end closes the engine connection on purpose; the reasons each end sees. */
  const engineCloses: Array<{ name: string; close(pair: { client: ClientSocket; socket: Socket }): Promise<void> | void; server: string; client: string }> = [
    {
      name: `the client closes its engine: "transport close" on the server (${transport})`,
      close: ({ client }) => void client.io.engine.close(),
      server: "transport close",
      client: "forced close",
    },
    {
      name: `the server closes the engine connection: "forced close" (${transport})`,
      // A GET waiting first, so that the close is answered on it.
      close: async ({ socket }) => {
        await pollWaiting(socket);
        socket.conn.close();
      },
      server: "forced close",
      client: "transport close",
    },
  ];
  for (const c of engineCloses) {
    test(c.name, async (t) => {
      const fx = await ioForTest(t);
      const { client, socket } = await pair(fx, transport);
      const serverSide = reason(socket);
      const clientSide = reason(client);
      await c.close({ client, socket });
      assert.equal(await within(serverSide, T, "server reason"), c.server);
      assert.equal(await within(clientSide, T, "client reason"), c.client);
    });
  }

  // ---- protocol violations ----

  const invalid: Array<[string, string | Buffer]> = [
    ["an event whose data is not an array", '2"notarray"'],
    ["a reserved event name", '2["disconnect"]'],
    ["an unknown packet type", "9"],
    ["a binary message nobody announced", Buffer.from([1, 2, 3])],
  ];
  for (const [what, packet] of invalid) {
    // socket.io 4.8 reports "forced close" here; "parse error" is the documented reason.
    test(`${what}: error, then "parse error" (${transport})`, async (t) => {
      const fx = await ioForTest(t);
      const connection = once<[Socket]>(fx.io, "connection");
      const engine = await rawClient(t, fx, transport);
      const [socket] = await within(connection, T, "connection");
      const events: string[] = [];
      socket.on("error", (err) => events.push("error:" + (err instanceof Error)));
      socket.on("disconnecting", (r) => events.push("disconnecting:" + r));
      socket.on("disconnect", (r) => events.push("disconnect:" + r));
      const closed = once(engine, "close");
      engine.send(packet);
      await within(closed, T, "the client's engine is closed");
      assert.deepEqual(events, ["error:true", "disconnecting:parse error", "disconnect:parse error"]);
      assert.equal(fx.io.engine.clientsCount, 0);
    });
  }

  // ---- forced server close, connect timeout ----

  test(`no namespace joined within connectTimeout: the connection is closed (${transport})`, async (t) => {
    const fx = await ioForTest(t, { connectTimeout: 100 });
    const engine = await rawClient(t, fx, transport, false);
    const conn = Object.values(fx.io.engine.clients)[0];
    const serverClosed = once<[string]>(conn, "close");
    const start = Date.now();
    await within(once(engine, "close"), T, "client engine closed");
    assert.equal((await serverClosed)[0], "forced close");
    assert.ok(Date.now() - start >= 50, "not closed before the timeout");
    assert.equal(fx.io.engine.clientsCount, 0);
  });

  test(`a client that joins in time is not closed by connectTimeout (${transport})`, async (t) => {
    const fx = await ioForTest(t, { connectTimeout: 100 });
    const { client, socket } = await pair(fx, transport);
    await quiet(250);
    assert.equal(socket.connected, true);
    assert.equal(client.connected, true);
  });

  // ---- order of events ----

  test(`disconnecting fires before disconnect, with the rooms still there (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const { client, socket } = await pair(fx, transport);
    await socket.join(["r1", "r2"]);
    const adapterRooms = fx.io.of("/").adapter.rooms;
    const seen: Array<[string, string, string[], boolean]> = [];
    const record = (ev: string) => (r: string) => seen.push([ev, r, [...socket.rooms].sort(), adapterRooms.has("r1")]);
    socket.on("disconnecting", record("disconnecting"));
    const done = once(socket, "disconnect");
    socket.on("disconnect", record("disconnect"));
    client.disconnect();
    await within(done, T, "disconnect");
    assert.deepEqual(seen, [
      ["disconnecting", "client namespace disconnect", [socket.id, "r1", "r2"].sort(), true],
      ["disconnect", "client namespace disconnect", [], false],
    ]);
  });

  // ---- pending acknowledgements ----

  test(`acknowledgements pending at disconnect are released (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const { client, socket } = await pair(fx, transport);
    // The client has no listener for these events, so it never answers.
    const untimed: unknown[][] = [];
    socket.emit("never", (...args: unknown[]) => untimed.push(args));
    const timed = new Promise<unknown>((resolve) => socket.timeout(300).emit("never", (err: unknown) => resolve(err)));
    const withAck = socket.timeout(300).emitWithAck("never");
    const broadcast = new Promise<[unknown, unknown]>((resolve) =>
      fx.io.timeout(300).emit("never", (err: unknown, responses: unknown) => resolve([err, responses])),
    );
    assert.equal(socket.acks.size, 4);
    const gone = once(socket, "disconnect");
    client.disconnect();
    await within(gone, T, "disconnect");
    // (socket.io 4.8 keeps them in the map until the socket is garbage.)
    assert.equal(socket.acks.size, 0, "nothing is kept for a socket that is gone");
    // Timed acknowledgements still settle, with the timeout error.
    const err = await within(timed, T, "timed ack");
    assert.ok(err instanceof Error);
    assert.equal(err.message, "operation has timed out");
    await assert.rejects(within(withAck, T, "emitWithAck"), /operation has timed out/);
    const [broadcastErr, responses] = await within(broadcast, T, "broadcast ack");
    assert.ok(broadcastErr instanceof Error);
    assert.deepEqual(responses, []);
    assert.deepEqual(untimed, [], "an ack without timeout is never called");
  });

  // ---- server shutdown ----

  test(`io.close(): "server shutting down" in every namespace, clients see "transport close" (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.of("/a");
    const { manager, sockets } = await multiplexed(t, fx, transport, ["/", "/a"]);
    const single = await pair(fx, transport, "/a");
    const serverReasons = Promise.all([
      reason(serverSocket(fx.io, "/", manager.engine.id)),
      reason(serverSocket(fx.io, "/a", manager.engine.id)),
      reason(single.socket),
    ]);
    const clientReasons = Promise.all([reason(sockets[0]), reason(sockets[1]), reason(single.client)]);
    for (const s of [...fx.io.of("/").sockets.values(), ...fx.io.of("/a").sockets.values()]) await pollWaiting(s);
    // No closeAllConnections() here: io.close() alone must end pending long-polls.
    let called: unknown[] | undefined;
    await within(
      fx.io.close((...args: unknown[]) => (called = args)),
      T,
      "io.close()",
    );
    assert.deepEqual(called, [undefined], "the callback gets no error");
    assert.deepEqual(await within(serverReasons, T, "server reasons"), Array(3).fill("server shutting down"));
    assert.deepEqual(await within(clientReasons, T, "client reasons"), Array(3).fill("transport close"));
    assert.equal(fx.io.engine.clientsCount, 0);
    assert.equal(fx.http.listening, false);
    assert.equal(fx.io.of("/a").sockets.size, 0);
  });
}

test("io.close() closes the adapters and frees the port", async (t) => {
  const closed: string[] = [];
  class RecordingAdapter extends Adapter {
    override close(): void {
      closed.push(this.nsp.name);
    }
  }
  const fx = await ioForTest(t, { adapter: RecordingAdapter });
  fx.io.of("/a");
  fx.io.of("/b");
  const { client } = await pair(fx, "websocket");
  const gone = reason(client);
  const promise = fx.io.close();
  assert.ok(promise instanceof Promise);
  await within(promise, T, "io.close()");
  assert.deepEqual(closed.sort(), ["/", "/a", "/b"]);
  assert.equal(await within(gone, T, "client disconnect"), "transport close");
  // The port can be bound again at once.
  const probe = createNetServer();
  await within(new Promise<void>((resolve, reject) => probe.once("error", reject).listen(fx.port, "127.0.0.1", resolve)), T, "rebind");
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

// (socket.io 4.8 throws here: it closes an engine that does not exist.)
test("io.close() on a server that was never attached resolves and calls back", async () => {
  const io = new Server();
  let called = false;
  await within(
    io.close(() => (called = true)),
    T,
    "close",
  );
  assert.equal(called, true);
});

test(`"forced server close": an invalid CONNECT while the server has writes pending (polling)`, async (t) => {
  const fx = await ioForTest(t);
  const connection = once<[Socket]>(fx.io, "connection");
  const engine = await rawClient(t, fx, "polling");
  const [socket] = await within(connection, T, "connection");
  socket.on("hi", () => socket.emit("hello"));
  const serverSide = reason(socket);
  // Same tick: both go in one POST. A second CONNECT to "/" is a protocol violation; the
  // reply to "hi" is still waiting to be written, so the engine closes after it.
  engine.send('2["hi"]');
  engine.send("0");
  assert.equal(await within(serverSide, T, "server reason"), "forced server close");
  await within(once(engine, "close"), T, "client engine closed");
});

test(`an invalid Engine.IO packet: "parse error" (websocket)`, async (t) => {
  const fx = await ioForTest(t);
  const connection = once<[Socket]>(fx.io, "connection");
  const ws = new WebSocket(`${fx.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  t.after(() => ws.terminate());
  ws.on("message", (data) => {
    const text = String(data);
    if (text.startsWith("0{")) ws.send("40");
  });
  const [socket] = await within(connection, T, "connection");
  const serverSide = reason(socket);
  ws.send("x"); // not an Engine.IO packet type
  assert.equal(await within(serverSide, T, "server reason"), "parse error");
  await within(once(ws, "close"), T, "WebSocket closed");
});

test("a namespace's disconnectSockets(): every socket of it goes, others stay", async (t) => {
  const fx = await ioForTest(t);
  const a: Namespace = fx.io.of("/a");
  const one = await pair(fx, "websocket", "/a");
  const two = await pair(fx, "polling", "/a");
  const root = await pair(fx, "websocket", "/");
  const reasons = Promise.all([reason(one.socket), reason(two.socket), reason(one.client), reason(two.client)]);
  a.disconnectSockets();
  assert.deepEqual(await within(reasons, T, "reasons"), [
    "server namespace disconnect",
    "server namespace disconnect",
    "io server disconnect",
    "io server disconnect",
  ]);
  assert.equal(root.socket.connected, true);
  assert.equal(a.sockets.size, 0);
});

// Regression: join() after the disconnect (e.g. after an await) used to put the gone
// socket's id back into the adapter's rooms, where nothing would ever remove it.
test("a socket that joins a room after it disconnected leaves nothing behind", async (t) => {
  const fx = await ioForTest(t);
  const { client, socket } = await pair(fx, "websocket");
  const adapter = fx.io.of("/").adapter;
  const gone = once(socket, "disconnect");
  client.disconnect();
  await within(gone, T, "disconnect");
  await socket.join(["late", "later"]);
  await socket.join("latest");
  assert.equal(adapter.rooms.size, 0);
  assert.equal(adapter.sids.size, 0);
  assert.deepEqual([...socket.rooms], []);
  assert.deepEqual([...(await fx.io.in("late").allSockets())], []);
});
