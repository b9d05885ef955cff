/**
 * Connection state recovery (`connectionStateRecovery`): offsets on stored events, the
 * private session id in CONNECT, and a client whose connection drops coming back with its
 * id, rooms, data and exactly the packets it missed; what is not stored, what is not
 * recoverable, and middlewares. Official socket.io-client v4 and raw engine.io-client
 * connections, over WebSocket and HTTP long-polling.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import type { Socket as TcpSocket } from "node:net";
import { Socket as EioClient } from "engine.io-client";
import type { Socket as ClientSocket } from "socket.io-client";
import { Adapter, SessionAwareAdapter, type ServerOptions, type Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { setTimeout as delay } from "node:timers/promises";
import { T, once, within } from "../helpers";

type Transport = "websocket" | "polling";
const BOTH: Transport[] = ["websocket", "polling"];

interface Fixture extends IoFixture {
  /** Every TCP connection the HTTP server accepted and that is still open. */
  tcp: Set<TcpSocket>;
}

async function start(t: TestContext, opts: Partial<ServerOptions> = { connectionStateRecovery: {} }): Promise<Fixture> {
  const fx = await startIo(opts);
  const tcp = new Set<TcpSocket>();
  fx.http.on("connection", (socket: TcpSocket) => {
    tcp.add(socket);
    socket.once("close", () => tcp.delete(socket));
  });
  t.after(() => fx.close());
  return { ...fx, tcp };
}

function nextConnection(fx: IoFixture, nsp = "/"): Promise<Socket> {
  return within(once<[Socket]>(fx.io.of(nsp), "connection"), T, "server connection").then(([socket]) => socket);
}

/** The offset the client would send back (socket.io-client keeps it private). */
function lastOffset(client: ClientSocket): string | undefined {
  return (client as unknown as { _lastOffset?: string })._lastOffset;
}

/** Connects a client and resolves with both ends once both see the connection. */
async function connect(fx: IoFixture, transport: Transport, opts: Parameters<IoFixture["client"]>[1] = {}) {
  const server = nextConnection(fx);
  const client = fx.client("/", { transports: [transport], ...opts });
  const [socket] = await Promise.all([server, within(once(client, "connect"), T, "client connect")]);
  return { client, socket };
}

/** Sends one event so that the client holds an offset, and returns that offset. */
async function primeOffset(socket: Socket, client: ClientSocket): Promise<string> {
  const got = once<[string, string]>(client, "prime");
  socket.emit("prime", "x");
  const [, offset] = await within(got, T, "prime event");
  assert.equal(typeof offset, "string");
  return offset;
}

/** Closes the client's transport (the client believes the network dropped) and waits for the server to notice. */
async function drop(client: ClientSocket, socket: Socket): Promise<string> {
  const gone = once<[string]>(socket, "disconnect");
  client.io.engine.close();
  const [reason] = await within(gone, T, "server disconnect");
  return reason;
}

/** Reconnects a client made with `reconnection: false`; resolves with the new server socket. */
async function reconnect(fx: IoFixture, client: ClientSocket): Promise<Socket> {
  const server = nextConnection(fx);
  const connected = within(once(client, "connect"), T, "client reconnect");
  client.connect();
  const [socket] = await Promise.all([server, connected]);
  return socket;
}

/** Collects every event the client gets until `marker` arrives (the marker excluded). */
function collectUntil(client: ClientSocket, marker: string): Promise<unknown[][]> {
  return within(
    new Promise<unknown[][]>((resolve) => {
      const got: unknown[][] = [];
      const listener = (event: string, ...args: unknown[]) => {
        if (event !== marker) return void got.push([event, ...args]);
        client.offAny(listener);
        resolve(got);
      };
      client.onAny(listener);
    }),
    T,
    `events until ${marker}`,
  );
}

/** Checks that every event ends with a distinct string offset, and returns the events without it. */
function stripOffsets(events: unknown[][]): unknown[][] {
  const offsets = events.map((e) => e[e.length - 1]);
  for (const offset of offsets) assert.equal(typeof offset, "string", `offset in ${JSON.stringify(events)}`);
  assert.equal(new Set(offsets).size, offsets.length, "offsets are unique");
  return events.map((e) => e.slice(0, -1));
}

// ---- options ----

test("connectionStateRecovery: {} gets the defaults and the session-aware adapter", async (t) => {
  const fx = await start(t);
  assert.deepEqual(fx.io.opts.connectionStateRecovery, { maxDisconnectionDuration: 120000, skipMiddlewares: true });
  assert.ok(fx.io.of("/").adapter instanceof SessionAwareAdapter);
  assert.ok(fx.io.of("/late").adapter instanceof SessionAwareAdapter, "namespaces created later too");

  const custom = await start(t, { connectionStateRecovery: { maxDisconnectionDuration: 5000 } });
  assert.deepEqual(custom.io.opts.connectionStateRecovery, { maxDisconnectionDuration: 5000, skipMiddlewares: true });

  const plain = await start(t, {});
  assert.ok(!(plain.io.of("/").adapter instanceof SessionAwareAdapter));
  assert.ok(plain.io.of("/").adapter instanceof Adapter);
});

// ---- on the wire ----

/** A raw Engine.IO client: Socket.IO packets as strings, in arrival order. */
class RawClient {
  readonly eio: EioClient;
  private readonly queue: string[] = [];
  private readonly waiters: Array<(message: string) => void> = [];

  constructor(fx: IoFixture, transport: Transport = "websocket") {
    this.eio = new EioClient(fx.url, { path: "/socket.io/", transports: [transport] });
    this.eio.on("message", (data) => {
      const message = String(data);
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
  }

  next(what: string): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return within(new Promise<string>((resolve) => this.waiters.push(resolve)), T, what);
  }

  /** Opens the connection and joins "/" with `auth`; resolves with the CONNECT payload. */
  async join(auth?: object): Promise<{ sid: string; pid?: string }> {
    await within(once(this.eio, "open"), T, "raw open");
    this.eio.send("0" + (auth ? JSON.stringify(auth) : ""));
    const reply = await this.next("CONNECT reply");
    assert.equal(reply[0], "0", `CONNECT reply: ${reply}`);
    return JSON.parse(reply.slice(1)) as { sid: string; pid?: string };
  }

  close(): void {
    this.eio.close();
  }
}

function raw(t: TestContext, fx: IoFixture, transport: Transport = "websocket"): RawClient {
  const client = new RawClient(fx, transport);
  t.after(() => client.close());
  return client;
}

test("on the wire: CONNECT carries the pid, stored events end with an offset, acked and volatile ones do not", async (t) => {
  const fx = await start(t);
  const server = nextConnection(fx);
  const client = raw(t, fx);
  const connect = await client.join();
  const socket = await server;
  assert.equal(connect.sid, socket.id);
  assert.equal(typeof connect.pid, "string");
  assert.notEqual(connect.pid, connect.sid);

  socket.emit("direct", 1);
  fx.io.emit("all", { a: 1 });
  fx.io.to(socket.id).compress(false).emit("room");
  socket.emit("acked", 2, () => {});

  const offsets: string[] = [];
  for (const expected of [["direct", 1], ["all", { a: 1 }], ["room"]]) {
    const message = await client.next("stored event");
    assert.equal(message.slice(0, 2), "2[", message);
    const data = JSON.parse(message.slice(1)) as unknown[];
    const offset = data.pop();
    assert.deepEqual(data, expected);
    assert.equal(typeof offset, "string");
    offsets.push(offset as string);
  }
  assert.equal(new Set(offsets).size, 3, "every offset is new");
  assert.match(await client.next("acked event"), /^2\d+\["acked",2\]$/);
  // A volatile packet is dropped while others wait to be written (upstream socket.ts "should
  // not emit volatile event after regular event (ws)"): each goes once the previous is out.
  socket.volatile.emit("volatile", 3);
  assert.equal(await client.next("volatile event"), '2["volatile",3]');
  fx.io.volatile.emit("volatile", 4);
  assert.equal(await client.next("volatile broadcast"), '2["volatile",4]');
});

test("on the wire: without recovery there is no pid and no offset", async (t) => {
  const fx = await start(t, {});
  const server = nextConnection(fx);
  const client = raw(t, fx);
  const connect = await client.join();
  const socket = await server;
  assert.deepEqual(connect, { sid: socket.id });
  socket.emit("direct", 1);
  fx.io.emit("all");
  assert.equal(await client.next("event"), '2["direct",1]');
  assert.equal(await client.next("broadcast"), '2["all"]');
});

// ---- recovering ----

for (const transport of BOTH) {
  test(`${transport}: a dropped client gets back its id, rooms and data, and exactly the packets it missed`, async (t) => {
    const fx = await start(t);
    fx.io.on("connection", (socket) => {
      if (socket.recovered) return;
      void socket.join(["r1", "r2"]);
      socket.data = { user: "ann", visits: 1 };
    });
    const { client, socket } = await connect(fx, transport);
    assert.equal(socket.recovered, false);
    assert.equal(client.recovered, false);
    const offset = await primeOffset(socket, client);
    assert.equal(lastOffset(client), offset, "the client tracks the last offset");

    assert.equal(await drop(client, socket), "transport close");
    assert.equal(client.connected, false);
    // While it is away: what reaches it...
    fx.io.emit("all", 1);
    fx.io.to("r1").emit("room", "r1");
    fx.io.to(socket.id).emit("direct", 2);
    fx.io.to(["r1", "r2"]).emit("both", 3);
    fx.io.of("/").emit("binary", Buffer.from([1, 2, 3]));
    // ...and what does not: other rooms, except(), volatile, with an acknowledgement.
    fx.io.to("elsewhere").emit("not-me", "other room");
    fx.io.except("r2").emit("not-me", "except room");
    fx.io.to("r1").except(socket.id).emit("not-me", "except id");
    fx.io.volatile.emit("not-me", "volatile");
    fx.io.timeout(50).emit("not-me", "acked", () => {});
    fx.io.emit("all", 4);

    const events = collectUntil(client, "end");
    const again = await reconnect(fx, client);
    fx.io.to("r2").emit("live", 5);
    again.emit("end");
    const got = await events;

    assert.equal(again.id, socket.id);
    assert.notEqual(again, socket);
    assert.equal(again.recovered, true);
    assert.equal(client.recovered, true);
    assert.equal(client.id, socket.id);
    assert.deepEqual(again.rooms, new Set([socket.id, "r1", "r2"]));
    assert.deepEqual(again.data, { user: "ann", visits: 1 });
    assert.equal(again.handshake.auth.offset, offset, "the client sent its last offset");
    assert.equal(typeof again.handshake.auth.pid, "string");
    assert.deepEqual(stripOffsets(got), [
      ["all", 1],
      ["room", "r1"],
      ["direct", 2],
      ["both", 3],
      ["binary", Buffer.from([1, 2, 3])],
      ["all", 4],
      ["live", 5],
    ]);
    assert.notEqual(lastOffset(client), offset);
    assert.deepEqual([...fx.io.of("/").sockets.keys()], [socket.id]);
  });
}

test("each namespace of a connection recovers on its own", async (t) => {
  const fx = await start(t);
  const { client, socket } = await connect(fx, "websocket");
  const chatServer = nextConnection(fx, "/chat");
  // A second socket on the same Manager: it connects on its own, over the same connection.
  const chat = client.io.socket("/chat");
  t.after(() => chat.disconnect());
  const chatSocket = await chatServer;
  await within(once(chat, "connect"), T, "chat connect");
  await primeOffset(socket, client);
  await primeOffset(chatSocket, chat);

  const chatGone = once(chatSocket, "disconnect");
  await drop(client, socket);
  await within(chatGone, T, "chat disconnect");
  fx.io.of("/chat").emit("news", "chat");
  fx.io.emit("news", "main");

  const mainNews = once<[string]>(client, "news");
  const chatNews = once<[string]>(chat, "news");
  const chatBack = nextConnection(fx, "/chat");
  const again = await reconnect(fx, client);
  const chatAgain = await chatBack;
  assert.equal(again.id, socket.id);
  assert.equal(chatAgain.id, chatSocket.id);
  assert.equal(chatAgain.recovered, true);
  assert.equal((await within(mainNews, T, "main news"))[0], "main");
  assert.equal((await within(chatNews, T, "chat news"))[0], "chat");
});

// ---- middlewares ----

for (const skipMiddlewares of [true, false]) {
  test(`middlewares ${skipMiddlewares ? "are skipped for" : "run for"} a recovered socket with skipMiddlewares: ${skipMiddlewares}`, async (t) => {
    const fx = await start(t, { connectionStateRecovery: { skipMiddlewares } });
    const seen: Array<{ recovered: boolean; rooms: string[] }> = [];
    fx.io.use((socket, next) => {
      seen.push({ recovered: socket.recovered, rooms: [...socket.rooms] });
      next();
    });
    fx.io.on("connection", (socket) => {
      if (!socket.recovered) void socket.join("r");
    });
    const { client, socket } = await connect(fx, "websocket");
    await primeOffset(socket, client);
    await drop(client, socket);
    fx.io.to("r").emit("missed", 1);
    const missed = once<[number, string]>(client, "missed");
    const again = await reconnect(fx, client);
    assert.equal(again.recovered, true);
    assert.equal((await within(missed, T, "missed event"))[0], 1);
    if (skipMiddlewares) {
      assert.deepEqual(seen, [{ recovered: false, rooms: [] }]);
    } else {
      // The middleware sees the recovered socket, rooms already restored.
      assert.deepEqual(seen, [
        { recovered: false, rooms: [] },
        { recovered: true, rooms: [socket.id, "r"] },
      ]);
    }
  });
}

test("skipMiddlewares: false — a middleware may refuse a recovered socket", async (t) => {
  const fx = await start(t, { connectionStateRecovery: { skipMiddlewares: false } });
  fx.io.use((socket, next) => next(socket.recovered ? new Error("no comeback") : undefined));
  const { client, socket } = await connect(fx, "websocket");
  await primeOffset(socket, client);
  await drop(client, socket);
  const refused = within(once<[Error]>(client, "connect_error"), T, "connect_error");
  client.connect();
  assert.equal((await refused)[0].message, "no comeback");
  assert.equal(fx.io.of("/").sockets.size, 0);
  assert.equal(fx.io.of("/").adapter.rooms.size, 0, "the refused socket left its restored rooms");
});

// ---- not recovered ----

/**
 * After `missed` was emitted: the client reconnects as a new socket, not recovered, and
 * gets none of what it missed. Resolves with the new server socket.
 */
async function assertNotRecovered(fx: IoFixture, client: ClientSocket, old: Socket): Promise<Socket> {
  const events = collectUntil(client, "end");
  const again = await reconnect(fx, client);
  again.emit("end");
  assert.notEqual(again.id, old.id);
  assert.equal(again.recovered, false);
  assert.equal(client.recovered, false);
  assert.deepEqual(await events, []);
  return again;
}

test("a session older than maxDisconnectionDuration is not recovered", async (t) => {
  const fx = await start(t, { connectionStateRecovery: { maxDisconnectionDuration: 100 } });
  fx.io.on("connection", (socket) => {
    if (!socket.recovered) socket.data = { first: true };
  });
  const { client, socket } = await connect(fx, "websocket");
  await primeOffset(socket, client);
  await drop(client, socket);
  fx.io.emit("missed", 1);
  await delay(250); // time passes: the session outlives maxDisconnectionDuration (no event marks that)
  const again = await assertNotRecovered(fx, client, socket);
  assert.deepEqual(again.data, { first: true }, "a fresh socket, through the connection handler");
});

/** Namespace disconnects, each with how it is made and the reasons both ends see. */
const namespaceDisconnects: Array<{ by: "server" | "client"; leave(client: ClientSocket, socket: Socket): void; clientReason?: string; serverReason: string }> = [
  { by: "server", leave: (_client, socket) => socket.disconnect(), clientReason: "io server disconnect", serverReason: "server namespace disconnect" },
  { by: "client", leave: (client) => client.disconnect(), serverReason: "client namespace disconnect" },
];
for (const { by, leave, clientReason, serverReason } of namespaceDisconnects) {
  test(`a ${by} namespace disconnect is not recoverable`, async (t) => {
    const fx = await start(t);
    const { client, socket } = await connect(fx, "websocket");
    await primeOffset(socket, client);
    const left = clientReason === undefined ? undefined : within(once<[string]>(client, "disconnect"), T, "client disconnect");
    const gone = within(once<[string]>(socket, "disconnect"), T, "server disconnect");
    leave(client, socket);
    if (left) assert.equal((await left)[0], clientReason);
    assert.equal((await gone)[0], serverReason);
    fx.io.emit("missed", 1);
    await assertNotRecovered(fx, client, socket);
  });
}

test("an unknown pid, a bad offset or wrong types just give a new session", async (t) => {
  const fx = await start(t);
  const first = raw(t, fx);
  const server = nextConnection(fx);
  const { sid, pid } = await first.join();
  const socket = await server;
  socket.emit("x");
  const offset = (JSON.parse((await first.next("event")).slice(1)) as string[])[1];
  const gone = within(once(socket, "disconnect"), T, "disconnect");
  first.close();
  await gone;

  const attempts: object[] = [
    { pid: "nope", offset },
    { pid, offset: "nope" },
    { pid, offset: 7 },
    { pid: [pid], offset },
    { pid },
    { offset },
  ];
  for (const auth of attempts) {
    const client = raw(t, fx);
    const next = nextConnection(fx);
    const reply = await client.join(auth);
    const fresh = await next;
    assert.equal(fresh.recovered, false, JSON.stringify(auth));
    assert.notEqual(reply.sid, sid, JSON.stringify(auth));
    assert.notEqual(reply.pid, pid, JSON.stringify(auth));
    assert.equal(reply.sid, fresh.id);
    client.close();
  }

  // The failed attempts did not use the session up: the right pair still recovers it, once.
  const back = raw(t, fx);
  const next = nextConnection(fx);
  const reply = await back.join({ pid, offset });
  assert.deepEqual(reply, { sid, pid });
  assert.equal((await next).recovered, true);
  const replay = raw(t, fx);
  const replayed = await replay.join({ pid, offset });
  assert.notEqual(replayed.sid, sid, "a session is recovered at most once");
});

// ---- a stream cut at several points ----

type Cut = (fx: Fixture, client: ClientSocket, socket: Socket) => void | Promise<void>;

/** The client closes its transport, as when it detects a dead network. */
const clientClose: Cut = (_fx, client) => {
  client.io.engine.close();
};

/**
 * The server destroys the TCP connection. Over WebSocket, every open one; over polling the
 * one that brings the client's next poll, as it arrives (between two polls there may be no
 * connection whose loss either side would notice).
 */
const tcpDestroy: Cut = (fx, _client, socket) => {
  if (socket.conn.transport.name !== "polling") {
    for (const tcp of fx.tcp) tcp.destroy();
    return;
  }
  const onRequest = (req: IncomingMessage) => {
    if (req.method !== "GET" || !req.url?.includes("transport=polling")) return;
    fx.http.off("request", onRequest);
    req.socket.destroy();
  };
  fx.http.prependListener("request", onRequest);
};

/** The server closes the Engine.IO connection ("forced close" is recoverable). */
const serverClose: Cut = (_fx, _client, socket) => {
  socket.conn.close();
};

/** The client's own TCP socket is destroyed (WebSocket only). */
const clientTcpDestroy: Cut = (_fx, client) => {
  (client.io.engine.transport as unknown as { ws: { _socket: TcpSocket } }).ws._socket.destroy();
};

const CUTS: Record<Transport, Cut[]> = {
  websocket: [clientClose, tcpDestroy, serverClose, clientTcpDestroy],
  polling: [clientClose, tcpDestroy, serverClose, clientClose],
};

/**
 * What the server says of each cut, in order, as the official server does. A destroyed
 * poll is "transport error" when it waits for data, "transport close" when the stream's
 * data is written to it at once (the usual case here).
 */
const EXPECTED_REASONS = [["transport close"], ["transport close", "transport error"], ["forced close"], ["transport close"]];

for (const transport of BOTH) {
  test(`${transport}: a stream cut at several points arrives exactly once and in order`, async (t) => {
    const fx = await start(t);
    const reasons: string[] = [];
    fx.io.on("connection", (socket) => {
      socket.on("disconnect", (reason) => reasons.push(reason));
      if (!socket.recovered) void socket.join("stream");
    });
    const { client, socket } = await connect(fx, transport, {
      reconnection: true,
      reconnectionDelay: 30,
      reconnectionDelayMax: 30,
      randomizationFactor: 0,
    });
    const sid = socket.id;
    const N = 900;
    // Random points, one in each stretch of the stream (printed so that a failure can be replayed).
    const cutAt = [20, 240, 460, 680].map((from) => from + Math.floor(Math.random() * 180));
    t.diagnostic(`cut at ${cutAt.join(", ")}`);
    const cuts = CUTS[transport].slice();
    const reconnections: boolean[] = [];
    client.on("connect", () => reconnections.push(client.recovered));

    const got: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.on("n", (i: number) => {
        got.push(i);
        if (!cutAt.includes(got.length)) return;
        // Cut from a later I/O turn, as a real drop would: socket.io-client dispatches the
        // packets it has decoded on process.nextTick, and one cut from inside this listener
        // would find them queued, buffer them while disconnected and replay them after its
        // CONNECT (sent with an older offset), so the server would rightly send them again.
        const at = got.length;
        setImmediate(() => {
          const current = fx.io.of("/").sockets.get(sid);
          if (!current) return reject(new Error(`not connected when cutting at ${at}`));
          Promise.resolve(cuts.shift()!(fx, client, current)).catch(reject);
        });
      });
      client.on("end", () => resolve());
    });

    // Three packets per millisecond, through each kind of target: everyone, a room, the id.
    let i = 0;
    const timer = setInterval(() => {
      for (let k = 0; k < 3 && i < N; k++, i++) {
        if (i % 3 === 0) fx.io.emit("n", i);
        else if (i % 3 === 1) fx.io.to("stream").emit("n", i);
        else fx.io.to(sid).emit("n", i);
      }
      if (i === N) {
        clearInterval(timer);
        fx.io.emit("end");
      }
    }, 1);
    t.after(() => clearInterval(timer));

    await within(done, 15000, "the whole stream");
    assert.equal(got.length, N, `received ${got.length} of ${N}`);
    assert.deepEqual(got, Array.from({ length: N }, (_, k) => k));
    assert.equal(cuts.length, 0, "every cut happened");
    assert.deepEqual(reconnections, [true, true, true, true], "each cut, one recovered reconnection");
    assert.equal(reasons.length, EXPECTED_REASONS.length, `reasons: ${reasons.join(", ")}`);
    reasons.forEach((reason, k) => assert.ok(EXPECTED_REASONS[k].includes(reason), `cut ${k}: ${reason}`));
    assert.equal(client.id, sid);
    assert.deepEqual([...fx.io.of("/").sockets.keys()], [sid]);
  });
}
