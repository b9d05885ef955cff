/**
 * `io.bind(engine)` with the official engine.io Server (engine.io 6.6), as socket.io 4.8
 * allows (`io.bind(require("engine.io").attach(httpServer))`): the official socket.io-client
 * over polling, WebSocket and the upgrade, broadcasts with their pre-encoded WebSocket frame,
 * disconnect reasons, connectTimeout and parse errors closing the engine socket, revision 3
 * clients, and `io.close()` closing the engine. The differential matrix
 * (client-matrix.test.ts) runs its scenarios on this set-up as well.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { attach as attachEio, Server as EioServer, type ServerOptions as EioOptions } from "engine.io";
import { Socket as EioClient } from "engine.io-client";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { Server, type ServerOptions, type Socket } from "../../src/index";
import { T, once, within } from "../helpers";

type Mode = "polling" | "websocket" | "upgrade";
const MODES: Mode[] = ["polling", "websocket", "upgrade"];
const TRANSPORTS: Record<Mode, Array<"polling" | "websocket">> = { polling: ["polling"], websocket: ["websocket"], upgrade: ["polling", "websocket"] };

interface Bound {
  io: Server;
  engine: EioServer;
  url: string;
  client(opts?: Parameters<typeof connect>[1]): ClientSocket;
}

/** Volley bound to an engine.io Server attached (at its default path /engine.io) to a fresh HTTP server. */
async function bound(t: TestContext, eioOpts: EioOptions = {}, ioOpts: Partial<ServerOptions> = {}, viaConstructor = false): Promise<Bound> {
  const http = createServer();
  let engine: EioServer;
  if (viaConstructor) {
    engine = new EioServer(eioOpts);
    engine.attach(http);
  } else {
    engine = attachEio(http, eioOpts);
  }
  const io = new Server(ioOpts);
  io.bind(engine);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clients: ClientSocket[] = [];
  t.after(async () => {
    for (const c of clients) c.disconnect();
    await io.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return {
    io,
    engine,
    url,
    client(opts = {}) {
      const c = connect(url, { path: "/engine.io", forceNew: true, reconnection: false, ...opts });
      clients.push(c);
      return c;
    },
  };
}

async function connected(b: Bound, mode: Mode): Promise<{ client: ClientSocket; socket: Socket }> {
  const serverSide = once<[Socket]>(b.io, "connection");
  const client = b.client({ transports: TRANSPORTS[mode] });
  const [[socket]] = await within(Promise.all([serverSide, once(client, "connect")]), T, "connection");
  if (mode === "upgrade" && socket.conn.transport.name !== "websocket") await within(once(socket.conn, "upgrade"), T, "upgrade");
  return { client, socket };
}

for (const mode of MODES) {
  test(`bound to engine.io (${mode}): events and acks both ways with binary; socket.conn is the engine.io socket`, { timeout: 10000 }, async (t) => {
    const b = await bound(t, {}, {}, mode === "upgrade");
    const { client, socket } = await connected(b, mode);
    assert.equal(socket.conn, (b.engine as unknown as { clients: Record<string, unknown> }).clients[socket.conn.id]);
    assert.equal(socket.conn.transport.name, mode === "polling" ? "polling" : "websocket");
    socket.on("echo", (a: unknown, bin: Buffer, cb: (...args: unknown[]) => void) => cb(a, bin));
    const answer = await within(client.timeout(T).emitWithAck("echo", { x: 1 }, Buffer.from([1, 2])), T, "client ack");
    assert.deepEqual(answer, { x: 1 });
    const both = await within(
      new Promise<unknown[]>((resolve) => client.emit("echo", "s", Buffer.from([3]), (...args: unknown[]) => resolve(args))),
      T,
      "client ack",
    );
    assert.equal(both[0], "s");
    assert.deepEqual([...new Uint8Array(both[1] as ArrayBuffer)], [3]);
    client.on("double", (n: number, cb: (v: unknown, bin: Buffer) => void) => cb(n * 2, Buffer.from([n])));
    const reply = await within(socket.timeout(T).emitWithAck("double", 4), T, "server ack");
    assert.equal(reply, 8);
  });

  test(`bound to engine.io (${mode}): broadcasts to rooms, text and binary, with and without compression`, { timeout: 10000 }, async (t) => {
    // perMessageDeflate on: engine.io then ignores the pre-encoded frame and encodes again.
    for (const perMessageDeflate of [false, true]) {
      const b = await bound(t, { perMessageDeflate });
      const one = await connected(b, mode);
      const two = await connected(b, mode);
      one.socket.join("room");
      const got = within(
        new Promise<unknown[]>((resolve) => {
          const seen: unknown[] = [];
          one.client.onAny((ev: string, ...args: unknown[]) => {
            seen.push([ev, ...args.map((a) => (a instanceof ArrayBuffer || Buffer.isBuffer(a) ? [...new Uint8Array(a)] : a))]);
            if (ev === "last") resolve(seen);
          });
        }),
        T,
        "broadcasts",
      );
      const other: string[] = [];
      two.client.onAny((ev: string) => other.push(ev));
      b.io.to("room").emit("text", "é", 1);
      b.io.to("room").emit("bin", Buffer.from([1, 2, 3]));
      b.io.to("room").compress(false).emit("plain", "x");
      b.io.emit("all");
      b.io.to("room").emit("last");
      assert.deepEqual(await got, [["text", "é", 1], ["bin", [1, 2, 3]], ["plain", "x"], ["all"], ["last"]]);
      // A round trip: whatever `two` was sent before its answer has arrived.
      two.socket.on("rt", (cb: () => void) => cb());
      await within(two.client.timeout(T).emitWithAck("rt"), T, "round trip");
      assert.deepEqual(other, ["all"]);
    }
  });

  test(`bound to engine.io (${mode}): disconnect reasons on both sides`, { timeout: 10000 }, async (t) => {
    const b = await bound(t);
    const cases: Array<[string, (c: ClientSocket, s: Socket) => void, string, string]> = [
      ["server disconnect()", (_c, s) => s.disconnect(), "server namespace disconnect", "io server disconnect"],
      ["server disconnect(true)", (_c, s) => s.disconnect(true), "server namespace disconnect", "io server disconnect"],
      ["client disconnect()", (c) => c.disconnect(), "client namespace disconnect", "io client disconnect"],
      ["client transport drop", (c) => c.io.engine.close(), "transport close", "forced close"],
      ["engine socket close", (_c, s) => s.conn.close(), "forced close", "transport close"],
    ];
    for (const [what, act, serverReason, clientReason] of cases) {
      const { client, socket } = await connected(b, mode);
      const reasons = within(Promise.all([once<[string]>(socket, "disconnect"), once<[string]>(client, "disconnect")]), T, what);
      act(client, socket);
      const [[server], [seen]] = await reasons;
      assert.deepEqual([what, server, seen], [what, serverReason, clientReason]);
    }
  });
}

test("bound to engine.io: io.close() closes the engine and its sessions; clients see the transport close", { timeout: 10000 }, async (t) => {
  const b = await bound(t);
  const polling = await connected(b, "polling");
  const ws = await connected(b, "websocket");
  assert.equal(b.engine.clientsCount, 2);
  const reasons = within(
    Promise.all([once<[string]>(polling.client, "disconnect"), once<[string]>(ws.client, "disconnect"), once<[string]>(ws.socket, "disconnect")]),
    T,
    "disconnects",
  );
  await b.io.close();
  const [[r1], [r2], [server]] = await reasons;
  assert.deepEqual([r1, r2, server], ["transport close", "transport close", "server shutting down"]);
  assert.equal(b.engine.clientsCount, 0);
});

test("bound to engine.io: a connection that joins no namespace is closed after connectTimeout", { timeout: 10000 }, async (t) => {
  const b = await bound(t, {}, { connectTimeout: 100 });
  const raw = new EioClient(b.url, { path: "/engine.io", transports: ["websocket"] });
  t.after(() => raw.close());
  const [reason] = await within(once<[string]>(raw, "close"), T, "close");
  assert.equal(reason, "transport close");
  assert.equal(b.engine.clientsCount, 0);
});

test("bound to engine.io: a packet that does not decode closes the connection with reason parse error", { timeout: 10000 }, async (t) => {
  const b = await bound(t);
  const { client, socket } = await connected(b, "websocket");
  const reasons = within(Promise.all([once<[string]>(socket, "disconnect"), once<[string]>(client, "disconnect")]), T, "disconnect");
  (client.io.engine as unknown as { write(data: string): void }).write("9 not a packet");
  const [[server], [seen]] = await reasons;
  assert.deepEqual([server, seen], ["parse error", "transport close"]);
});

test("bound to engine.io with allowEIO3: a socket.io-client v2 joins / implicitly and exchanges events", { timeout: 10000 }, async (t) => {
  const b = await bound(t, { allowEIO3: true });
  const connectV2 = require("socket.io-client-v2") as (url: string, opts: object) => ClientSocket & { close(): void };
  const serverSide = once<[Socket]>(b.io, "connection");
  const v2 = connectV2(b.url, { path: "/engine.io", transports: ["websocket"], forceNew: true, reconnection: false });
  t.after(() => v2.close());
  const [[socket]] = await within(Promise.all([serverSide, once(v2, "connect")]), T, "v2 connect");
  assert.equal(socket.conn.protocol, 3);
  assert.equal(socket.id, socket.conn.id);
  socket.on("echo", (v: unknown, cb: (v: unknown) => void) => cb(v));
  const back = await within(new Promise((resolve) => v2.emit("echo", [1, "a"], resolve)), T, "v2 ack");
  assert.deepEqual(back, [1, "a"]);
});

test("bound to an engine whose requests have `connection` but no `socket` (as bun-engine's): handshake.secure reads it", { timeout: 10000 }, async (t) => {
  const b = await bound(t);
  // Stands for bun-engine, whose request carries `connection.encrypted` and no `socket`.
  b.engine.prependListener("connection", (conn: { request: { headers: unknown; url: unknown; _query: unknown } }) => {
    const req = conn.request;
    conn.request = { headers: req.headers, url: req.url, _query: req._query, connection: { encrypted: true } } as typeof req;
  });
  const { socket } = await connected(b, "polling");
  assert.equal(socket.handshake.secure, true);
  assert.equal(socket.handshake.url, socket.request.url);
});
