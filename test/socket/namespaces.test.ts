/**
 * Namespaces with the official socket.io-client (v4) over polling and WebSocket:
 * `io.of()` naming and `new_namespace`, several namespaces multiplexed over one engine
 * session, namespace middlewares (order, async, refusal with `data`), "Invalid namespace",
 * dynamic namespaces (RegExp and function parents, inherited middlewares and listeners,
 * parent broadcasts, `cleanupEmptyChildNamespaces`), and which clients a namespace
 * emit reaches. `io.sockets` / `io.on` as aliases of the main namespace.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Manager, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { Namespace, type ExtendedError, type Server, type Socket } from "../../src/index";
import { type IoFixture, connected, ioForTest } from "../socket-helpers";
import { T, once, within } from "../helpers";

type Transport = "polling" | "websocket";
const BOTH: Transport[] = ["polling", "websocket"];

/** One engine connection shared by several namespace sockets (socket.io-client's Manager). */
function manager(t: TestContext, fx: IoFixture, transport: Transport, opts: Partial<ManagerOptions> = {}) {
  const m = new Manager(fx.url, { transports: [transport], reconnection: false, ...opts });
  const sockets: ClientSocket[] = [];
  t.after(() => {
    for (const s of sockets) s.disconnect();
    m.engine?.close();
  });
  return {
    manager: m,
    socket(nsp: string, socketOpts: Partial<SocketOptions> = {}): ClientSocket {
      const s = m.socket(nsp, socketOpts);
      sockets.push(s);
      s.connect();
      return s;
    },
  };
}

/** Resolves once the client socket is connected; rejects with its `connect_error`. */
/** Emits `ev` with an acknowledgement and resolves with all of the answer's arguments. */
function ask(socket: ClientSocket, ev: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) => socket.emit(ev, ...args, (...answer: unknown[]) => resolve(answer)));
}

type ConnectError = Error & { data?: unknown };

/** Resolves with the client's `connect_error`; rejects if it connects instead. */
function refused(socket: ClientSocket): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    socket.once("connect_error", (err: ConnectError) => resolve(err));
    socket.once("connect", () => reject(new Error("connected although it should have been refused")));
  });
}

/** The next server-side socket of `nsp`. */
function nextSocket(nsp: Namespace | Server): Promise<Socket> {
  return once<[Socket]>(nsp, "connection").then(([s]) => s);
}

/**
 * Runs `fn` with uncaught exceptions captured (and given to it as a Promise) instead of
 * reaching the test runner, whose listeners are put back afterwards.
 */
async function capturingUncaught<R>(fn: (uncaught: Promise<unknown>) => Promise<R>): Promise<R> {
  const saved = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  let capture!: (err: unknown) => void;
  const uncaught = new Promise<unknown>((resolve) => (capture = resolve));
  process.on("uncaughtException", capture);
  try {
    return await fn(uncaught);
  } finally {
    process.off("uncaughtException", capture);
    for (const listener of saved) process.on("uncaughtException", listener);
  }
}

// ---- naming ----

test("io.of() adds the leading slash, reuses namespaces and announces each new one once", async (t) => {
  const fx = await ioForTest(t);
  const announced: string[] = [];
  fx.io.on("new_namespace", (nsp: Namespace) => announced.push(nsp.name));
  const admin = fx.io.of("/admin");
  assert.ok(admin instanceof Namespace);
  assert.equal(admin.name, "/admin");
  assert.equal(fx.io.of("admin"), admin, "a name without a leading slash is the same namespace");
  assert.equal(fx.io.of("/admin"), admin);
  const other = fx.io.of("other");
  assert.equal(other.name, "/other");
  assert.equal(fx.io.of("/"), fx.io.sockets, "the main namespace is not announced and already exists");
  assert.deepEqual(announced, ["/admin", "/other"]);
});

test("io.sockets is io.of('/'), and io.on/off/use/emit act on it", async (t) => {
  const fx = await ioForTest(t);
  assert.equal(fx.io.sockets, fx.io.of("/"));
  assert.equal(fx.io.sockets.name, "/");
  const onConnection = () => {};
  fx.io.on("connection", onConnection);
  assert.ok(fx.io.sockets.listeners("connection").includes(onConnection));
  assert.deepEqual(fx.io.listeners("connection"), fx.io.sockets.listeners("connection"));
  fx.io.off("connection", onConnection);
  assert.ok(!fx.io.sockets.listeners("connection").includes(onConnection));

  // io.use() is the main namespace's middleware, and io.on("connection") sees its sockets.
  const ran: string[] = [];
  fx.io.use((socket, next) => {
    ran.push(socket.nsp.name);
    next();
  });
  fx.io.of("/side").use((_socket, next) => next());
  const viaIo = nextSocket(fx.io);
  const viaSockets = nextSocket(fx.io.sockets);
  const c = fx.client("/");
  await within(connected(c), T, "connect /");
  const [a, b] = await within(Promise.all([viaIo, viaSockets]), T, "connection events");
  assert.equal(a, b, "io.on('connection') and io.sockets.on('connection') get the same socket");
  assert.equal(a.nsp, fx.io.sockets);

  const side = fx.client("/side");
  await within(connected(side), T, "connect /side");
  assert.deepEqual(ran, ["/"], "the main namespace's middleware does not run for /side");

  const got = once<[string]>(c, "hello");
  fx.io.emit("hello", "all of /");
  assert.deepEqual(await within(got, T, "io.emit"), ["all of /"]);
});

for (const transport of BOTH) {
  // ---- one namespace ----

  test(`a client joins /admin and exchanges events there (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    let mainConnections = 0;
    fx.io.on("connection", () => mainConnections++);
    const admin = fx.io.of("admin");
    admin.on("connection", (socket) => {
      socket.on("whoami", (cb: (nsp: string, id: string) => void) => cb(socket.nsp.name, socket.id));
    });
    const serverSide = nextSocket(admin);
    const c = fx.client("/admin", { transports: [transport] });
    await within(connected(c), T, "connect /admin");
    const s = await within(serverSide, T, "server connection");
    assert.equal(s.nsp, admin);
    assert.equal(s.id, c.id, "the client learns its socket id from the CONNECT answer");
    assert.notEqual(s.id, s.conn.id, "the socket id is not the engine id");
    const [nsp, id] = await within(ask(c, "whoami"), T, "ack");
    assert.equal(nsp, "/admin");
    assert.equal(id, c.id);
    assert.equal(mainConnections, 0, "joining /admin alone does not join /");
  });

  // ---- multiplexing ----

  test(`three namespaces share one engine session (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const serverSockets = new Map<string, Socket>();
    for (const name of ["/", "/admin", "/chat"]) {
      fx.io.of(name).on("connection", (socket) => {
        serverSockets.set(name, socket);
        socket.on("where", (cb: (nsp: string, auth: unknown) => void) => cb(socket.nsp.name, socket.handshake.auth));
      });
    }
    const m = manager(t, fx, transport);
    const root = m.socket("/");
    const admin = m.socket("/admin", { auth: { role: "admin" } });
    const chat = m.socket("/chat", { auth: { room: 7 } });
    await within(Promise.all([connected(root), connected(admin), connected(chat)]), T, "all connected");

    assert.equal(fx.io.engine.clientsCount, 1, "a single engine session");
    const engineIds = new Set([...serverSockets.values()].map((s) => s.conn.id));
    assert.equal(engineIds.size, 1);
    assert.equal([...engineIds][0], m.manager.engine.id);
    const socketIds = new Set([root.id, admin.id, chat.id]);
    assert.equal(socketIds.size, 3, "each namespace has its own socket id");
    assert.equal(serverSockets.get("/admin")!.id, admin.id);

    // Each namespace's events reach that namespace's handlers, with its own auth.
    assert.deepEqual(await within(ask(root, "where"), T, "/"), ["/", {}]);
    assert.deepEqual(await within(ask(admin, "where"), T, "/admin"), ["/admin", { role: "admin" }]);
    assert.deepEqual(await within(ask(chat, "where"), T, "/chat"), ["/chat", { room: 7 }]);

    // Leaving one namespace keeps the session and the others.
    const gone = once<[string]>(serverSockets.get("/admin")!, "disconnect");
    admin.disconnect();
    await within(gone, T, "server /admin disconnect");
    assert.equal(fx.io.engine.clientsCount, 1);
    assert.deepEqual(await within(ask(chat, "where"), T, "/chat after"), ["/chat", { room: 7 }]);
  });

  // ---- middlewares ----

  test(`namespace middlewares run in order, sync and async, before connection (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const order: string[] = [];
    let mainMiddleware = 0;
    fx.io.use((_s, next) => {
      mainMiddleware++;
      next();
    });
    const nsp = fx.io.of("/mw");
    nsp.use((socket, next) => {
      order.push("sync");
      socket.data.first = true;
      next();
    });
    nsp.use((_socket, next) => {
      setTimeout(() => {
        order.push("timer");
        next();
      }, 20);
    });
    nsp.use(async (socket, next) => {
      await new Promise((resolve) => setImmediate(resolve));
      order.push("async:" + socket.handshake.auth.token);
      next();
    });
    nsp.on("connection", (socket) => order.push("connection:" + String(socket.data.first)));
    const c = fx.client("/mw", { transports: [transport], auth: { token: "t1" } });
    await within(connected(c), T, "connect /mw");
    assert.deepEqual(order, ["sync", "timer", "async:t1", "connection:true"]);
    assert.equal(mainMiddleware, 0, "the main namespace's middleware is not run for /mw");
  });

  test(`a middleware error with data reaches the client as connect_error (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const nsp = fx.io.of("/private");
    let laterMiddleware = false;
    let connections = 0;
    nsp.use((socket, next) => {
      const err: ExtendedError = new Error("not authorized");
      err.data = { code: 403, token: socket.handshake.auth.token };
      setTimeout(() => next(err), 5);
    });
    nsp.use((_s, next) => {
      laterMiddleware = true;
      next();
    });
    nsp.on("connection", () => connections++);
    fx.io.on("connection", (socket) => socket.on("ping", (cb: () => void) => cb()));

    // The refusal must leave the shared engine session and its other namespaces alone.
    const m = manager(t, fx, transport);
    const root = m.socket("/");
    await within(connected(root), T, "connect /");
    const priv = m.socket("/private", { auth: { token: "bad" } });
    const err = await within(refused(priv), T, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { code: 403, token: "bad" });
    assert.equal(priv.connected, false);
    assert.equal(laterMiddleware, false, "middlewares after an error do not run");
    assert.equal(connections, 0);
    assert.equal(nsp.sockets.size, 0);
    await within(ask(root, "ping"), T, "/ still works");
    assert.equal(fx.io.engine.clientsCount, 1);
  });

  test(`an error without data gives connect_error with the message only (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.of("/plain").use((_s, next) => next(new Error("go away")));
    const c = fx.client("/plain", { transports: [transport] });
    const err = await within(refused(c), T, "connect_error");
    assert.equal(err.message, "go away");
    assert.equal(err.data, undefined);
  });

  // ---- unknown namespaces ----

  test(`an unknown namespace is refused with "Invalid namespace" (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const announced: string[] = [];
    fx.io.on("new_namespace", (nsp: Namespace) => announced.push(nsp.name));
    const c = fx.client("/nope", { transports: [transport] });
    const err = await within(refused(c), T, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(fx.io._nsps.has("/nope"), false, "no namespace is created for it");
    assert.deepEqual(announced, []);
  });

    // Regression: the middleware runner's try/catch used to catch this exception too, and
  // answered a socket that had just connected with a CONNECT_ERROR.
  test(`a connection listener that throws after a middleware is not a refusal (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.use((_socket, next) => next());
    fx.io.on("connection", () => {
      throw new Error("app bug");
    });
    await capturingUncaught(async (uncaught) => {
      const c = fx.client("/", { transports: [transport] });
      const errors: string[] = [];
      c.on("connect_error", (err) => errors.push(err.message));
      await within(connected(c), T, "connect");
      const err = await within(uncaught, T, "the application's exception");
      assert.ok(err instanceof Error);
      assert.equal(err.message, "app bug");
      const [socket] = [...fx.io.sockets.sockets.values()];
      assert.ok(socket, "the socket stays in its namespace");
      socket.on("ping", (cb: () => void) => cb());
      await within(ask(c, "ping"), T, "still usable");
      assert.deepEqual(errors, []);
      assert.equal(c.connected, true);
    });
  });

  // ---- dynamic namespaces ----

  test(`a RegExp parent creates children on demand, with its middlewares and listeners (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const announced: string[] = [];
    fx.io.on("new_namespace", (nsp: Namespace) => announced.push(nsp.name));
    const parent = fx.io.of(/^\/dyn-\d+$/);
    const seenByMiddleware: string[] = [];
    parent.use((socket, next) => {
      seenByMiddleware.push(socket.nsp.name);
      next();
    });
    const connections: string[] = [];
    parent.on("connection", (socket) => {
      connections.push(socket.nsp.name);
      socket.on("where", (cb: (nsp: string) => void) => cb(socket.nsp.name));
    });
    assert.equal(fx.io._nsps.has("/dyn-1"), false, "no child before a client asks");

    const m = manager(t, fx, transport);
    const one = m.socket("/dyn-1");
    const two = m.socket("/dyn-22");
    await within(Promise.all([connected(one), connected(two)]), T, "children connected");
    assert.deepEqual(announced.sort(), ["/dyn-1", "/dyn-22"]);
    assert.deepEqual(seenByMiddleware.sort(), ["/dyn-1", "/dyn-22"]);
    assert.deepEqual(connections.sort(), ["/dyn-1", "/dyn-22"]);
    assert.deepEqual(await within(ask(two, "where"), T, "ack"), ["/dyn-22"]);

    const child = fx.io.of("/dyn-1");
    assert.ok(child instanceof Namespace);
    assert.notEqual(child, parent);
    assert.equal(child.sockets.size, 1);

    // A name that does not match is still unknown.
    const bad = m.socket("/dyn-x");
    assert.equal((await within(refused(bad), T, "refused")).message, "Invalid namespace");

    // The parent broadcasts to every child, to rooms too.
    const got1 = once<[string]>(one, "news");
    const got2 = once<[string]>(two, "news");
    parent.emit("news", "for all children");
    assert.deepEqual(await within(Promise.all([got1, got2]), T, "parent emit"), [["for all children"], ["for all children"]]);
    for (const s of child.sockets.values()) await s.join("vip");
    const seenByTwo: string[] = [];
    two.onAny((ev: string) => seenByTwo.push(ev));
    const vip = once<[number]>(one, "vip");
    const marker = once<[number]>(two, "after");
    parent.to("vip").emit("vip", 1);
    fx.io.of("/dyn-22").emit("after", 2);
    assert.deepEqual(await within(vip, T, "room broadcast"), [1]);
    await within(marker, T, "marker");
    assert.deepEqual(seenByTwo, ["after"], "the child without the room got nothing before the marker");
  });

  test(`io.of(name) matching a RegExp parent creates a child that inherits (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const parent = fx.io.of(/^\/room-[a-z]+$/, (socket) => socket.emit("welcome", socket.nsp.name));
    parent.use((socket, next) => {
      socket.data.checked = socket.nsp.name;
      next();
    });
    const child = fx.io.of("/room-abc");
    assert.equal(fx.io._nsps.get("/room-abc"), child);
    assert.equal(fx.io.of("/room-abc"), child, "the second lookup returns the same child");
    const connection = nextSocket(child);
    const c = fx.client("/room-abc", { transports: [transport] });
    const welcome = once<[string]>(c, "welcome");
    await within(connected(c), T, "connect");
    assert.deepEqual(await within(welcome, T, "listener passed to io.of(regex, fn)"), ["/room-abc"]);
    const s = await within(connection, T, "connection");
    assert.equal(s.data.checked, "/room-abc", "the parent's middleware ran for the child");
  });

  test(`a function parent decides from the name and auth, asynchronously (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    const asked: Array<[string, unknown]> = [];
    const parent = fx.io.of((name, auth, next) => {
      asked.push([name, auth.token]);
      setTimeout(() => next(null, name.startsWith("/fn-") && auth.token === "ok"), 5);
    });
    parent.on("connection", (socket) => socket.on("where", (cb: (n: string) => void) => cb(socket.nsp.name)));
    const denying = fx.io.of((_name, _auth, next) => next(new Error("never"), true));
    denying.on("connection", () => assert.fail("an erroring parent must not accept"));

    const ok = fx.client("/fn-a", { transports: [transport], auth: { token: "ok" } });
    await within(connected(ok), T, "allowed");
    assert.deepEqual(await within(ask(ok, "where"), T, "ack"), ["/fn-a"]);
    assert.ok(fx.io._nsps.get("/fn-a") instanceof Namespace);

    const wrongAuth = fx.client("/fn-b", { transports: [transport], auth: { token: "no" } });
    assert.equal((await within(refused(wrongAuth), T, "refused by auth")).message, "Invalid namespace");
    assert.equal(fx.io._nsps.has("/fn-b"), false);
    const wrongName = fx.client("/other", { transports: [transport], auth: { token: "ok" } });
    assert.equal((await within(refused(wrongName), T, "refused by name")).message, "Invalid namespace");
    assert.deepEqual(asked, [
      ["/fn-a", "ok"],
      ["/fn-b", "no"],
      ["/other", "ok"],
    ]);

    // A second client to an existing child goes straight to it, without asking again.
    const again = fx.client("/fn-a", { transports: [transport], auth: { token: "whatever" } });
    await within(connected(again), T, "existing child");
    assert.equal(asked.length, 3);
  });

  test(`cleanupEmptyChildNamespaces removes a child when its last socket leaves (${transport})`, async (t) => {
    const fx = await ioForTest(t, { cleanupEmptyChildNamespaces: true });
    const parent = fx.io.of(/^\/tmp-\d+$/);
    const a = fx.client("/tmp-1", { transports: [transport] });
    const b = fx.client("/tmp-1", { transports: [transport] });
    await within(Promise.all([connected(a), connected(b)]), T, "both connected");
    const child = fx.io._nsps.get("/tmp-1")!;
    assert.equal(child.sockets.size, 2);

    const [first, second] = [...child.sockets.values()];
    const firstGone = once(first, "disconnect");
    a.disconnect();
    await within(firstGone, T, "first leaves");
    assert.equal(fx.io._nsps.get("/tmp-1"), child, "kept while a socket remains");

    const secondGone = once(second, "disconnect");
    b.disconnect();
    await within(secondGone, T, "second leaves");
    assert.equal(fx.io._nsps.has("/tmp-1"), false, "removed once empty");

    // The parent no longer reaches the removed child; a new client gets a fresh one.
    const announced = once<[Namespace]>(fx.io, "new_namespace");
    const c = fx.client("/tmp-1", { transports: [transport] });
    await within(connected(c), T, "reconnect");
    const [fresh] = await within(announced, T, "announced again");
    assert.equal(fresh.name, "/tmp-1");
    assert.notEqual(fresh, child);
    const news = once<[string]>(c, "news");
    parent.emit("news", "x");
    assert.deepEqual(await within(news, T, "parent emit to fresh child"), ["x"]);
  });

  test(`without cleanupEmptyChildNamespaces an empty child stays (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.of(/^\/keep-\d+$/);
    const c = fx.client("/keep-1", { transports: [transport] });
    await within(connected(c), T, "connect");
    const child = fx.io._nsps.get("/keep-1")!;
    const gone = once([...child.sockets.values()][0], "disconnect");
    c.disconnect();
    await within(gone, T, "leave");
    assert.equal(fx.io._nsps.get("/keep-1"), child);
  });

  // ---- who a namespace emit reaches ----

  test(`io.of("/x").emit reaches only /x, io.emit only / (${transport})`, async (t) => {
    const fx = await ioForTest(t);
    fx.io.of("/x");
    fx.io.of("/y");
    // Separate connections, plus one connection multiplexing all three.
    const root = fx.client("/", { transports: [transport] });
    const x = fx.client("/x", { transports: [transport] });
    const y = fx.client("/y", { transports: [transport] });
    const m = manager(t, fx, transport);
    const mRoot = m.socket("/");
    const mX = m.socket("/x");
    const mY = m.socket("/y");
    const all = [root, x, y, mRoot, mX, mY];
    await within(Promise.all(all.map(connected)), T, "all connected");
    const received = new Map<ClientSocket, string[]>(all.map((s) => [s, []]));
    for (const s of all) s.onAny((ev: string) => received.get(s)!.push(ev));

    // Each connection receives packets in order, so "done" arriving proves what came before it.
    const done = Promise.all(all.map((s) => once(s, "done")));
    fx.io.of("/x").emit("only-x");
    fx.io.emit("only-root");
    for (const name of ["/", "/x", "/y"]) fx.io.of(name).emit("done");
    await within(done, T, "markers");
    assert.deepEqual(received.get(x), ["only-x", "done"]);
    assert.deepEqual(received.get(mX), ["only-x", "done"]);
    assert.deepEqual(received.get(root), ["only-root", "done"]);
    assert.deepEqual(received.get(mRoot), ["only-root", "done"]);
    assert.deepEqual(received.get(y), ["done"]);
    assert.deepEqual(received.get(mY), ["done"]);
  });
}

// Regression: the parent's adapter was a bare object with only broadcast(), so these
// threw TypeErrors. The official server answers them for the parent's own (empty) set
// of sockets; broadcasts are the only thing that reaches the children.
test("a parent namespace's other operations act on no socket instead of throwing", async (t) => {
  const fx = await ioForTest(t);
  const parent = fx.io.of(/^\/p-\d+$/);
  const c = fx.client("/p-1", { transports: ["websocket"] });
  c.on("vote", (cb: (v: string) => void) => cb("child"));
  await within(connected(c), T, "connect");
  assert.deepEqual([...(await parent.allSockets())], []);
  parent.socketsJoin("room");
  parent.socketsLeave("room");
  parent.disconnectSockets();
  assert.deepEqual(await within(parent.timeout(1000).emitWithAck("vote"), T, "acknowledged emit"), []);
  assert.equal(parent.serverSideEmit("cluster"), true);
  const child = fx.io.of("/p-1");
  assert.equal(child.adapter.rooms.has("room"), false);
  assert.equal(c.connected, true, "the child's socket was not disconnected");
  // Broadcasts still reach the child.
  const news = once<[number]>(c, "news");
  parent.except("nobody").emit("news", 1);
  assert.deepEqual(await within(news, T, "broadcast"), [1]);
});
