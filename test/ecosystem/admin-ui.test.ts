/**
 * `@socket.io/admin-ui` on a Volley server. `instrument(io, ...)` adds an `/admin` namespace
 * and reaches into the server's internals (`io._nsps`, `io.engine`, `socket.conn`, engine
 * `packet`/`packetCreate`/`upgrade`/`close` events, adapter `join-room`/`leave-room`,
 * `onAny`/`onAnyOutgoing`, `new_namespace`, `fetchSockets`, `socketsJoin`, ...).
 *
 * A socket.io-client connects to `/admin` the way the Admin UI front end does and checks what
 * it is told: the socket list (ids, handshake, rooms, transport, data), room joins and leaves,
 * events both ways, server stats, and that its commands (`join`, `leave`, `emit`,
 * `_disconnect`) act on the server. Then basic authentication with sessions, read-only and
 * production modes, `instrument()` before the server is attached, and the msgpack parser.
 *
 * The expectations hold for the official socket.io 4.8 server too: this file passes against it
 * unchanged, and the two servers' admin message logs for the same scenarios were identical.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { instrument } from "@socket.io/admin-ui";
import * as msgpackParser from "socket.io-msgpack-parser";
import { io as connect, Manager, type Socket as ClientSocket } from "socket.io-client";
import { Server } from "../../src/index";
import { startIo } from "../socket-helpers";
import { T, once, within, quiet } from "../helpers";

/** Stats are pushed every 2 s (not configurable), so waiting for one may take that long. */
const STATS_T = 4000;
const ALL_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"];
/** bcrypt hash of "changeit" with cost 4 (made with bcryptjs, which admin-ui bundles), to keep the test fast. */
const HASH = "$2a$04$B8TFyCiagNEe6t7AlVljne53h9Tnj0QiAREeCFFRmyR.eyt8niRJ6";

/** admin-ui is typed against socket.io's `Server` class, which has private members: a cast is needed. */
type AdminTarget = Parameters<typeof instrument>[0];
const target = (io: Server): AdminTarget => io as unknown as AdminTarget;

interface SerializedSocket {
  id: string;
  clientId: string;
  transport: string;
  nsp: string;
  data: Record<string, unknown>;
  handshake: {
    address: string;
    headers: Record<string, string>;
    query: Record<string, string>;
    issued: number;
    secure: boolean;
    time: string;
    url: string;
    xdomain: boolean;
  };
  rooms: string[];
}

interface ServerStats {
  serverId: string;
  hostname: string;
  pid: number;
  uptime: number;
  clientsCount: number;
  pollingClientsCount: number;
  aggregatedEvents: Array<{ timestamp: number; type: string; subType?: string; count: number }>;
  namespaces: Array<{ name: string; socketsCount: number }>;
}

/** Records every message sent to an admin client; `wait` finds a recorded or future one. */
class AdminLog {
  readonly events: unknown[][] = [];
  private waiters: Array<{ match: (ev: string, args: unknown[]) => boolean; resolve: (args: unknown[]) => void }> = [];

  constructor(socket: ClientSocket) {
    socket.onAny((ev: string, ...args: unknown[]) => {
      this.events.push([ev, ...args]);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(ev, args)) return true;
        w.resolve(args);
        return false;
      });
    });
  }

  /** Position to pass as `from`, to only accept later messages. */
  mark(): number {
    return this.events.length;
  }

  /**
   * Args of the first `ev` message (at or after `from`) whose args pass `match`. Each admin
   * message has its own argument shape, hence the loose `match` signature.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  wait<A extends unknown[] = any[]>(ev: string, match: (...args: any[]) => boolean = () => true, from = 0, ms = T): Promise<A> {
    const test = (name: string, args: unknown[]): boolean => name === ev && match(...args);
    const seen = this.events.slice(from).find(([name, ...args]) => test(name as string, args));
    if (seen) return Promise.resolve(seen.slice(1) as A);
    const next = new Promise<A>((resolve) => this.waiters.push({ match: test, resolve: resolve as (args: unknown[]) => void }));
    return within(next, ms, `admin message ${ev}`);
  }

  names(): string[] {
    return this.events.map((e) => e[0] as string);
  }
}

function connected(socket: ClientSocket): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      if (socket.connected) return resolve();
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    }),
    T,
    "connect",
  );
}

function refused(socket: ClientSocket): Promise<Error> {
  return within(
    new Promise<Error>((resolve, reject) => {
      socket.once("connect", () => reject(new Error("connected, expected a refusal")));
      socket.once("connect_error", resolve);
    }),
    T,
    "connect_error",
  );
}

const isTimestamp = (v: unknown): boolean => (v instanceof Date || typeof v === "string") && !Number.isNaN(new Date(v).getTime());

/** Totals per `type:subType` over the stats messages. */
function totals(stats: ServerStats[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of stats) for (const e of s.aggregatedEvents) sums.set(`${e.type}:${e.subType ?? ""}`, (sums.get(`${e.type}:${e.subType ?? ""}`) ?? 0) + e.count);
  return sums;
}

test("development mode: sockets, rooms, events and stats are reported, and commands take effect", async (t) => {
  const fx = await startIo();
  t.after(() => fx.close());
  const { io } = fx;
  io.of("/orders").on("connection", (s) => {
    s.data.user = "bob"; // after the admin's proxy is set: reported as socket_updated
  });
  instrument(target(io), { auth: false, mode: "development", serverId: "volley-test" });
  io.of("/late"); // created after instrument(): reached through "new_namespace"
  io.of(/^\/dyn-\d+$/); // children of a parent namespace too
  io.on("connection", (s) => {
    void s.join("lobby");
    s.on("hello", (x: unknown, ack: (v: string) => void) => {
      s.emit("welcome", x);
      ack("ok");
    });
  });

  // The UI connects with polling then WebSocket (unless "WebSocket only" is ticked).
  const admin = fx.client("/admin", { withCredentials: true });
  const log = new AdminLog(admin);
  await connected(admin);
  const [config] = await log.wait<[{ supportedFeatures: string[] }]>("config");
  assert.deepEqual(config.supportedFeatures, ALL_FEATURES);
  const [initial] = await log.wait<[SerializedSocket[]]>("all_sockets");
  assert.deepEqual(
    initial.map((s) => [s.nsp, s.id, s.rooms]),
    [["/admin", admin.id, [admin.id]]],
  );
  const statsFrom = log.mark();

  // A: polling upgraded to WebSocket on "/".
  const a = fx.client("/", { query: { name: "alice" } });
  await connected(a);
  const [sa, when] = await log.wait<[SerializedSocket, string]>("socket_connected", (s) => s.id === a.id);
  assert.ok(isTimestamp(when));
  assert.equal(sa.nsp, "/");
  assert.equal(sa.clientId, a.io.engine.id.slice(0, 12));
  assert.deepEqual(sa.rooms, [a.id]); // "lobby" is joined by the app's listener, which runs after
  assert.deepEqual(sa.data, {}); // `_admin` is kept out of the serialised data
  assert.equal(sa.handshake.address, "127.0.0.1");
  assert.equal(sa.handshake.headers.host, `127.0.0.1:${fx.port}`);
  assert.equal(sa.handshake.query.name, "alice");
  assert.equal(sa.handshake.query.EIO, "4");
  assert.equal(sa.handshake.query.transport, "polling");
  assert.ok(sa.handshake.url.startsWith("/socket.io/?"), sa.handshake.url);
  assert.equal(sa.handshake.secure, false);
  assert.equal(sa.handshake.xdomain, false);
  assert.equal(typeof sa.handshake.issued, "number");
  assert.ok(!Number.isNaN(Date.parse(sa.handshake.time)));
  await log.wait("room_joined", (nsp, room, id) => nsp === "/" && room === a.id && id === a.id);
  await log.wait("room_joined", (nsp, room, id) => nsp === "/" && room === "lobby" && id === a.id);
  // The upgrade is reported through `socket.conn.on("upgrade")`; in the unlikely case that it
  // finished before the namespace connection, the socket was listed as "websocket" directly.
  if (sa.transport === "polling") {
    const [update] = await log.wait<[Partial<SerializedSocket>]>("socket_updated", (u) => u.id === a.id && u.transport !== undefined);
    assert.deepEqual(update, { id: a.id, nsp: "/", transport: "websocket" });
  } else {
    assert.equal(sa.transport, "websocket");
  }

  // B: WebSocket only on "/orders"; P: polling only on "/orders".
  const b = fx.client("/orders", { transports: ["websocket"] });
  const p = fx.client("/orders", { transports: ["polling"] });
  await Promise.all([connected(b), connected(p)]);
  const [sb] = await log.wait<[SerializedSocket]>("socket_connected", (s) => s.id === b.id);
  assert.equal(sb.nsp, "/orders");
  assert.equal(sb.transport, "websocket");
  assert.equal(sb.handshake.query.transport, "websocket");
  const [sp] = await log.wait<[SerializedSocket]>("socket_connected", (s) => s.id === p.id);
  assert.equal(sp.transport, "polling");
  const [ub] = await log.wait<[Partial<SerializedSocket>]>("socket_updated", (u) => u.id === b.id);
  assert.deepEqual(ub, { id: b.id, nsp: "/orders", data: { user: "bob" } });

  // Namespaces created after instrument(), directly or as a parent's child.
  const late = fx.client("/late", { transports: ["websocket"] });
  const dyn = fx.client("/dyn-1", { transports: ["websocket"] });
  await Promise.all([connected(late), connected(dyn)]);
  await log.wait("socket_connected", (s: SerializedSocket) => s.id === late.id && s.nsp === "/late");
  await log.wait("socket_connected", (s: SerializedSocket) => s.id === dyn.id && s.nsp === "/dyn-1");

  // Events both ways; the acknowledgement callback is not part of the reported args.
  assert.equal(await within(a.emitWithAck("hello", { n: 1 }), T, "ack"), "ok");
  const [, , received, receivedAt] = await log.wait("event_received", (nsp, id) => nsp === "/" && id === a.id);
  assert.deepEqual(received, ["hello", { n: 1 }]);
  assert.ok(isTimestamp(receivedAt));
  const [, , sent] = await log.wait("event_sent", (nsp, id) => nsp === "/" && id === a.id);
  assert.deepEqual(sent, ["welcome", { n: 1 }]);

  // join / emit / leave on one socket.
  const serverA = io.of("/").sockets.get(a.id!)!;
  admin.emit("join", "/", "vip", a.id);
  await log.wait("room_joined", (nsp, room, id) => nsp === "/" && room === "vip" && id === a.id);
  assert.ok(serverA.rooms.has("vip"));
  const announced = once<[number]>(a, "announce");
  admin.emit("emit", "/", "vip", "announce", 42);
  assert.deepEqual(await within(announced, T, "announce"), [42]);
  await log.wait("event_sent", (nsp, id, args: unknown[]) => id === a.id && args[0] === "announce");
  admin.emit("leave", "/", "lobby", a.id);
  await log.wait("room_left", (nsp, room, id) => nsp === "/" && room === "lobby" && id === a.id);
  assert.deepEqual([...serverA.rooms].sort(), [a.id, "vip"].sort());

  // join without a filter: every socket of the namespace.
  admin.emit("join", "/orders", "all-orders");
  await log.wait("room_joined", (nsp, room, id) => nsp === "/orders" && room === "all-orders" && id === b.id);
  await log.wait("room_joined", (nsp, room, id) => nsp === "/orders" && room === "all-orders" && id === p.id);
  assert.deepEqual(io.of("/orders").adapter.rooms.get("all-orders"), new Set([b.id, p.id]));

  // _disconnect without closing: only that namespace's socket goes.
  const bId = b.id!; // the client forgets its id once disconnected
  const bGone = once<[string, unknown]>(b, "disconnect");
  admin.emit("_disconnect", "/orders", false, bId);
  assert.equal((await within(bGone, T, "b disconnect"))[0], "io server disconnect");
  await log.wait("socket_disconnected", (nsp, id, reason) => nsp === "/orders" && id === bId && reason === "server namespace disconnect");
  await log.wait("room_left", (nsp, room, id) => nsp === "/orders" && room === bId && id === bId);
  assert.equal(io.of("/orders").sockets.has(bId), false);

  // _disconnect with close: the whole connection goes, with the client's other namespace.
  const m = new Manager(fx.url, { reconnection: false, transports: ["websocket"] });
  t.after(() => m.engine?.close());
  const m1 = m.socket("/");
  const m2 = m.socket("/orders");
  m1.connect();
  m2.connect();
  await Promise.all([connected(m1), connected(m2)]);
  const [id1, id2] = [m1.id!, m2.id!];
  const mConnClosed = once<[string]>(io.of("/").sockets.get(id1)!.conn, "close");
  const m2Gone = once<[string, unknown]>(m2, "disconnect");
  admin.emit("_disconnect", "/", true, id1);
  assert.equal((await within(m2Gone, T, "m2 disconnect"))[0], "io server disconnect");
  await log.wait("socket_disconnected", (nsp, id, reason) => nsp === "/" && id === id1 && reason === "server namespace disconnect");
  await log.wait("socket_disconnected", (nsp, id, reason) => nsp === "/orders" && id === id2 && reason === "server namespace disconnect");
  assert.equal((await within(mConnClosed, T, "m connection close"))[0], "forced close");

  // A client leaving on its own (its manager then closes the connection).
  const lateId = late.id!;
  const lateConnClosed = once(io.of("/late").sockets.get(lateId)!.conn, "close");
  late.disconnect();
  await log.wait("socket_disconnected", (nsp, id, reason) => nsp === "/late" && id === lateId && reason === "client namespace disconnect");
  await log.wait("room_left", (nsp, room, id) => nsp === "/late" && room === lateId && id === lateId);
  await within(lateConnClosed, T, "late connection close");

  // Server stats: the next push reflects the current state (no connection is closing now).
  const [stats] = await log.wait<[ServerStats]>("server_stats", () => true, log.mark(), STATS_T);
  assert.equal(stats.serverId, "volley-test");
  assert.equal(stats.hostname, hostname());
  assert.equal(stats.pid, process.pid);
  assert.equal(typeof stats.uptime, "number");
  assert.equal(stats.clientsCount, io.engine.clientsCount);
  assert.equal(stats.clientsCount, 4); // admin, a, p, dyn
  assert.equal(stats.pollingClientsCount, 1); // p (a was upgraded)
  assert.deepEqual(
    stats.namespaces,
    [...io._nsps.values()].map((n) => ({ name: n.name, socketsCount: n.sockets.size })),
  );
  assert.deepEqual(
    stats.namespaces.map((n) => n.name),
    ["/", "/orders", "/admin", "/late", "/dyn-1"],
  );
  const all = log.events.slice(statsFrom).filter((e) => e[0] === "server_stats").map((e) => e[1] as ServerStats);
  const sums = totals(all);
  assert.ok((sums.get("rawConnection:") ?? 0) >= 6, `rawConnection ${sums.get("rawConnection:")}`); // a, b, p, late, dyn, m
  assert.ok((sums.get("rawDisconnection:forced close") ?? 0) >= 1, JSON.stringify([...sums])); // the _disconnect(close)
  for (const k of ["packetsIn:", "packetsOut:", "bytesIn:", "bytesOut:"]) assert.ok((sums.get(k) ?? 0) > 0, k);

  // A fresh admin connection gets the whole, current list (fetchSockets on every namespace).
  const admin2 = fx.client("/admin", { transports: ["websocket"] });
  const log2 = new AdminLog(admin2);
  const [list] = await log2.wait<[SerializedSocket[]]>("all_sockets");
  const expected = [...io._nsps.values()].flatMap((n) => [...n.sockets.keys()].map((id) => `${n.name} ${id}`)).sort();
  assert.deepEqual(list.map((s) => `${s.nsp} ${s.id}`).sort(), expected);
  const la = list.find((s) => s.id === a.id)!;
  assert.equal(la.transport, "websocket");
  assert.deepEqual([...la.rooms].sort(), [a.id, "vip"].sort());
  assert.equal(list.find((s) => s.id === p.id)!.transport, "polling");
  assert.deepEqual(list.find((s) => s.id === p.id)!.rooms.sort(), [p.id, "all-orders"].sort());
});

test("basic auth, sessions, read-only and production mode, instrument() before attach", async (t) => {
  const http = createServer();
  const io = new Server();
  // io.engine does not exist yet: admin-ui hooks the engine on the next tick.
  instrument(target(io), {
    auth: { type: "basic", username: "admin", password: HASH },
    readonly: true,
    mode: "production",
    serverId: "s2",
  });
  io.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clients: ClientSocket[] = [];
  const client = (nsp: string, auth?: Record<string, string>): ClientSocket => {
    const c = connect(url + nsp, { forceNew: true, reconnection: false, transports: ["websocket"], auth });
    clients.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of clients) c.disconnect();
    http.closeAllConnections();
    await io.close();
  });

  assert.equal((await refused(client("/admin", { username: "admin", password: "wrong" }))).message, "invalid credentials");
  assert.equal((await refused(client("/admin", { username: "root", password: "changeit" }))).message, "invalid credentials");
  assert.equal((await refused(client("/admin", { sessionId: "0123456789abcdef" }))).message, "invalid credentials");

  const admin = client("/admin", { username: "admin", password: "changeit" });
  const log = new AdminLog(admin);
  await connected(admin);
  const [sessionId] = await log.wait<[string]>("session");
  assert.match(sessionId, /^[0-9a-f]{16}$/);
  const [config] = await log.wait<[{ supportedFeatures: string[] }]>("config");
  assert.deepEqual(config.supportedFeatures, ["AGGREGATED_EVENTS"]); // read-only, production

  // The session id stands for the credentials (what the UI does on reload).
  const again = client("/admin", { sessionId });
  await connected(again);

  const c = client("/");
  await connected(c);
  // Read-only: commands have no handler. A short bounded wait proves nothing happens.
  admin.emit("join", "/", "vip", c.id);
  admin.emit("_disconnect", "/", true, c.id);
  await quiet(200);
  assert.deepEqual([...io.of("/").sockets.get(c.id!)!.rooms], [c.id]);
  assert.equal(c.connected, true);

  const [stats] = await log.wait<[ServerStats]>("server_stats", () => true, 0, STATS_T);
  assert.equal(stats.serverId, "s2");
  assert.equal(stats.clientsCount, io.engine.clientsCount);
  assert.equal(stats.pollingClientsCount, 0);
  // Engine events arrive although the engine was created after instrument().
  assert.ok((totals([stats]).get("rawConnection:") ?? 0) >= 1, JSON.stringify(stats.aggregatedEvents));
  // Production mode: no per-socket messages.
  const verbose = ["all_sockets", "socket_connected", "socket_updated", "room_joined", "room_left", "event_received", "event_sent"];
  assert.deepEqual(log.names().filter((n) => verbose.includes(n)), []);
});

test("msgpack parser: the admin namespace works with the UI's msgpack option", async (t) => {
  const fx = await startIo({ parser: msgpackParser });
  t.after(() => fx.close());
  instrument(target(fx.io), { auth: false, mode: "development" });
  const admin = fx.client("/admin", { transports: ["websocket"], parser: msgpackParser });
  const log = new AdminLog(admin);
  await connected(admin);
  await log.wait("all_sockets");
  const c = fx.client("/", { transports: ["websocket"], parser: msgpackParser });
  await connected(c);
  const [s, when] = await log.wait<[SerializedSocket, unknown]>("socket_connected", (x) => x.id === c.id);
  assert.equal(s.nsp, "/");
  assert.equal(s.transport, "websocket");
  assert.ok(isTimestamp(when));
  c.emit("bin", Buffer.from([1, 2, 3]));
  const [, , args] = await log.wait<[string, string, unknown[]]>("event_received", (nsp, id) => id === c.id);
  assert.equal(args[0], "bin");
  assert.deepEqual(Buffer.from(args[1] as Uint8Array), Buffer.from([1, 2, 3]));
});
