/**
 * Differential tests of the engine with the official Engine.IO clients: engine.io-client 6
 * (revision 4) and 3 (revision 3, with `allowEIO3`), over polling, WebSocket and the upgrade.
 * Each scenario runs against the official engine.io 6.6 Server and against Volley's engine;
 * what the client and the server observed (handshake, messages, close reasons, heartbeat,
 * upgrade) must be the same.
 *
 * Mirrors the client-facing parts of upstream engine.io test/server.js ("handshake",
 * "messages", "close" and "upgrade" sections); each scenario names its tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as EioServer } from "engine.io";
import { Socket as ClientV6 } from "engine.io-client";
import { Server as VolleyEngine } from "../../src/engine/index";
import { T, once, show, within } from "../helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */

type EngineKind = "engine.io" | "volley";

interface ClientKind {
  name: string;
  version: 3 | 6;
  transports: Array<"polling" | "websocket">;
}
const CLIENTS: ClientKind[] = [];
for (const version of [3, 6] as const) {
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as Array<ClientKind["transports"]>) {
    CLIENTS.push({ name: `v${version} ${transports.join("+")}`, version, transports });
  }
}

const connectV3: (url: string, opts: object) => any = require("engine.io-client-v3");

interface Ctx {
  engine: any;
  url: string;
  kind: ClientKind;
  log(...parts: unknown[]): void;
  connect(opts?: Record<string, unknown>): any;
}

interface Scenario {
  name: string;
  opts?: Record<string, unknown>;
  run(ctx: Ctx): Promise<void>;
}

function next<A extends unknown[] = any[]>(emitter: any, event: string, what = event): Promise<A> {
  return within(once<A>(emitter, event), T, what);
}

/** A client and its server-side socket, once both are open (and upgraded, with both transports). */
async function open(ctx: Ctx, opts: Record<string, unknown> = {}): Promise<{ client: any; socket: any; handshake: any }> {
  const connection = next<[any]>(ctx.engine, "connection", "server connection");
  const client = ctx.connect(opts);
  const handshake = next<[any]>(client, "handshake");
  await next(client, "open");
  const [socket] = await connection;
  if (ctx.kind.transports.length > 1 && opts.upgrade !== false) {
    await Promise.all([
      socket.transport.name === "websocket" ? undefined : next(socket, "upgrade", "server upgrade"),
      client.transport.name === "websocket" ? undefined : next(client, "upgrade", "client upgrade"),
    ]);
  }
  return { client, socket, handshake: (await handshake)[0] };
}

const scenarios: Scenario[] = [
  {
    // upstream server.js "handshake" section: the open packet's fields (sid, upgrades, pingInterval, pingTimeout, maxPayload)
    name: "handshake fields and transports",
    async run(ctx) {
      const { client, socket, handshake } = await open(ctx);
      ctx.log("handshake keys", Object.keys(handshake).sort());
      ctx.log("sid", typeof handshake.sid, handshake.sid.length, handshake.sid === socket.id);
      ctx.log("upgrades", handshake.upgrades, "ping", handshake.pingInterval, handshake.pingTimeout, "maxPayload", handshake.maxPayload);
      ctx.log("protocol", socket.protocol, "transports", client.transport.name, socket.transport.name);
    },
  },
  {
    // upstream server.js "messages": "should arrive from server to client (multiple)", "... (multiple, ws)", "should arrive when binary data is sent as Int8Array (ws)"
    name: "messages both ways, text and binary",
    async run(ctx) {
      const { client, socket } = await open(ctx);
      const fromClient: unknown[] = [];
      const serverGot = new Promise<void>((resolve) =>
        socket.on("message", (m: unknown) => {
          fromClient.push(show(m));
          if (m === "end") resolve();
        }),
      );
      const fromServer: unknown[] = [];
      const clientGot = new Promise<void>((resolve) =>
        client.on("message", (m: unknown) => {
          fromServer.push(show(m));
          if (m === "end") resolve();
        }),
      );
      for (const m of ["a", "", "é€", Buffer.from([1, 2, 3]), "end"]) {
        client.send(m);
        socket.send(m);
      }
      await within(Promise.all([serverGot, clientGot]), T, "messages");
      ctx.log("server got", fromClient);
      ctx.log("client got", fromServer);
    },
  },
  {
    // upstream server.js "close": "should trigger when server closes a client", "should trigger when client closes" (and their ws twins)
    name: "server close(), then client close()",
    async run(ctx) {
      {
        const { client, socket } = await open(ctx);
        const reasons = within(Promise.all([once<[string]>(socket, "close"), once<[string]>(client, "close")]), T, "close");
        socket.close();
        const [[server], [seen]] = await reasons;
        ctx.log("server close()", server, seen, ctx.engine.clientsCount);
      }
      {
        const { client, socket } = await open(ctx);
        const reasons = within(Promise.all([once<[string]>(socket, "close"), once<[string]>(client, "close")]), T, "close");
        client.close();
        const [[server], [seen]] = await reasons;
        ctx.log("client close()", server, seen, ctx.engine.clientsCount);
      }
    },
  },
  {
    // upstream server.js "close": "should discard the packets in the writeBuffer when stopping the server"
    name: "engine.close() with open sessions",
    // engine.io writes a message at once when the transport is writable, so a WebSocket client
    // gets one sent just before engine.close(); Volley flushes at the end of the turn, and
    // close() discards the buffer first (over polling both lose it).
    async run(ctx) {
      const { client, socket } = await open(ctx);
      const reasons = within(Promise.all([once<[string]>(socket, "close"), once<[string]>(client, "close")]), T, "close");
      const got: unknown[] = [];
      client.on("message", (m: unknown) => got.push(m));
      socket.send("buffered");
      ctx.engine.close();
      const [[server], [seen]] = await reasons;
      ctx.log("server", server, "client", seen, "count", ctx.engine.clientsCount, "got", got);
    },
  },
  {
    // upstream server.js "close": "should not timeout after an upgrade"... the heartbeat keeps both ends open (revision 4 server pings, revision 3 client pings)
    name: "heartbeat",
    opts: { pingInterval: 60, pingTimeout: 500 },
    async run(ctx) {
      const { client, socket } = await open(ctx);
      const events: string[] = [];
      for (const ev of ["ping", "pong", "heartbeat"]) {
        client.on(ev, () => events.push("client " + ev));
        socket.on(ev, () => events.push("server " + ev));
      }
      // Two full rounds: then both sides have seen every kind of heartbeat event at least once.
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (events.filter((e) => e === "server heartbeat").length >= 2) resolve();
          };
          socket.on("heartbeat", check);
        }),
        T,
        "heartbeats",
      );
      ctx.log("kinds", [...new Set(events)].sort(), "still open", client.readyState, socket.readyState);
    },
  },
  {
    // upstream server.js "upgrade" section: messages sent during the upgrade arrive once, in order
    name: "upgrade with messages in flight",
    async run(ctx) {
      if (ctx.kind.transports.length === 1) return;
      const connection = next<[any]>(ctx.engine, "connection");
      const client = ctx.connect();
      await next(client, "open");
      const [socket] = await connection;
      const got: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        socket.on("message", (m: string) => {
          got.push(m);
          if (m === "9") resolve();
        }),
      );
      const upgraded = Promise.all([next<[any]>(client, "upgrade"), next<[any]>(socket, "upgrade")]);
      for (let i = 0; i < 10; i++) setTimeout(() => client.send(String(i)), i * 5);
      const [[clientTransport], [serverTransport]] = await within(upgraded, T, "upgrade");
      await within(done, T, "messages");
      ctx.log("upgraded", clientTransport.name, serverTransport.name, "messages", got);
    },
  },
];

for (const scenario of scenarios) {
  for (const kind of CLIENTS) {
    if (scenario.name.startsWith("upgrade") && kind.transports.length === 1) continue;
    test(`${scenario.name} — engine.io-client ${kind.name}: Volley's engine as engine.io`, { timeout: 15000 }, async () => {
      const reference = await runOn("engine.io", kind, scenario);
      const volley = await runOn("volley", kind, scenario);
      // MATRIX_PRINT=1 shows what was compared.
      if (process.env.MATRIX_PRINT) console.log(JSON.stringify(reference));
      assert.deepEqual(volley, reference);
    });
  }
}

async function runOn(engineKind: EngineKind, kind: ClientKind, scenario: Scenario): Promise<unknown[]> {
  const opts = { allowEIO3: true, ...scenario.opts };
  const http = createServer();
  const engine: any = engineKind === "engine.io" ? new EioServer(opts) : new VolleyEngine(opts);
  engine.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const log: unknown[] = [];
  const clients: any[] = [];
  try {
    await scenario.run({
      engine,
      url,
      kind,
      log: (...parts) => log.push(parts),
      connect: (opts = {}) => {
        const o = { transports: kind.transports, ...opts };
        const client = kind.version === 6 ? new ClientV6(url, o) : connectV3(url, o);
        clients.push(client);
        return client;
      },
    });
  } finally {
    for (const client of clients) client.close();
    engine.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
  return log;
}
