/**
 * Differential tests: every scenario runs with one official client against the official
 * socket.io 4.8 server, against Volley, and against Volley bound to an official engine.io
 * Server; what each side observed (events, values, reasons, in order) must be the same as
 * with socket.io. Clients: socket.io-client v2 (with `allowEIO3`), v3 and v4, over polling,
 * WebSocket and the upgrade. Scenarios: events and acknowledgements both ways with binary,
 * rooms and broadcasts, disconnects from either side, refusals, the handshake, ack timeouts
 * (server and v4 client), v4 client retries, reconnection after a server restart and (v4)
 * connection state recovery.
 *
 * Mirrors the client-facing parts of upstream socket.io test/socket.ts, messaging-many.ts,
 * namespaces.ts, middleware.ts, handshake.ts, socket-timeout.ts, connection-state-recovery.ts and
 * socket.io-client test/retry.ts, test/connection.ts ("should reconnect by default"); each
 * scenario names its tests. Where README "Differences" documents a deliberate difference (a
 * WebSocket-only handshake refused by allowRequest: 403 where engine.io says 400; a packet that
 * does not decode: "parse error" where socket.io says "forced close"), the scenario says what
 * Volley must observe instead, derived from socket.io's observations.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLIENT_KINDS, ClientSet, SERVER_KINDS, show, startServer, type AnyClient, type AnySocket, type ClientKind, type RunningServer, type ServerKind } from "./peers";
import { T, once, within } from "../helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface Ctx {
  server: RunningServer;
  kind: ClientKind;
  clients: ClientSet;
  log(...parts: unknown[]): void;
  /** Stops the server and starts a new one of the same kind on the same port. */
  restart(): Promise<RunningServer>;
}

interface Scenario {
  name: string;
  /** Server options besides `allowEIO3`. */
  opts?: Record<string, unknown>;
  /** The client kinds the scenario applies to (default: all). */
  only?(kind: ClientKind): boolean;
  /**
   * A difference README "Differences" documents: what `server` must observe where socket.io
   * observed `reference` (undefined: the same).
   */
  documented?(kind: ClientKind, server: ServerKind, reference: unknown[]): unknown[] | undefined;
  /** The client versions the scenario applies to (default: all). */
  versions?: number[];
  run(ctx: Ctx): Promise<void>;
}

function next<T extends unknown[] = any[]>(emitter: any, event: string, what = event): Promise<T> {
  return within(once<T>(emitter, event), T, what);
}

function nextConnection(server: RunningServer, nsp = "/"): Promise<AnySocket> {
  return next<[AnySocket]>(server.io.of(nsp), "connection", "server connection").then(([s]) => s);
}

/** A client connected to `nsp`, with the server-side socket. */
async function connected(ctx: Ctx, nsp = "/", opts: Record<string, unknown> = {}): Promise<{ client: AnyClient; socket: AnySocket }> {
  const serverSide = nextConnection(ctx.server, nsp);
  const client = ctx.clients.connect(ctx.kind, ctx.server.url, nsp, opts);
  const [socket] = await Promise.all([serverSide, next(client, "connect", "client connect")]);
  // With polling then WebSocket, the scenario starts once the upgrade is done.
  if (ctx.kind.transports.length > 1 && socket.conn.transport.name !== "websocket") await next(socket.conn, "upgrade");
  return { client, socket };
}

/** Emits with an acknowledgement; resolves with the acknowledgement's arguments. */
function answer(emitter: any, event: string, ...args: unknown[]): Promise<unknown[]> {
  return within(new Promise((resolve) => emitter.emit(event, ...args, (...res: unknown[]) => resolve(res))), T, `ack of ${event}`);
}

/** A v2 refusal is its "error" event with the payload; v3 and v4 have "connect_error" with an Error. */
function refusal(ctx: Ctx, client: AnyClient): Promise<unknown> {
  const event = ctx.kind.version === 2 ? "error" : "connect_error";
  return next<[unknown]>(client, event, "refusal").then(([err]) => show(err));
}

const scenarios: Scenario[] = [
  {
    // upstream socket.ts "should emit events with binary data", "should emit events and receive binary data in a callback", "should receive events and pass binary data in a callback"
    name: "events and acknowledgements both ways, with binary",
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => {
        socket.emit("welcome", "hi", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) });
        socket.on("echo", (...args: any[]) => args.pop()(...args));
        socket.on("ask", () => socket.emit("question", 20, (answer: unknown) => socket.emit("answered", answer)));
      });
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      const welcome = next(client, "welcome");
      await next(client, "connect");
      ctx.log("welcome", await welcome);
      ctx.log("ack", await answer(client, "echo", "a", Buffer.from([9, 8]), { k: [1, Buffer.from([7])] }));
      client.on("question", (n: number, cb: (v: unknown) => void) => cb({ doubled: n * 2, bytes: Buffer.from([n]) }));
      const answered = next(client, "answered");
      client.emit("ask");
      ctx.log("answered", await answered);
    },
  },
  {
    // upstream messaging-many.ts "broadcasts to rooms", "broadcasts binary data to rooms", namespaces.ts "should exclude a specific room when emitting"
    name: "rooms and broadcasts",
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => {
        socket.on("join", (room: string, cb: () => void) => {
          socket.join(room);
          cb();
        });
        socket.on("shout", (room: string, msg: string) => {
          socket.to(room).emit("shouted", msg);
          ctx.server.io.except(room).emit("outside", msg);
          ctx.server.io.to(room).emit("inside", msg, Buffer.from([5]));
          ctx.server.io.emit("all", msg);
        });
      });
      const a = (await connected(ctx)).client;
      const b = (await connected(ctx)).client;
      for (const [name, c] of [["a", a], ["b", b]] as const) {
        for (const ev of ["shouted", "outside", "inside", "all"]) c.on(ev, (...args: unknown[]) => ctx.log(name, ev, args));
      }
      await answer(a, "join", "r");
      await answer(b, "join", "r");
      const allA = next(a, "all");
      const allB = next(b, "all");
      a.emit("shout", "r", "hey");
      await Promise.all([allA, allB]);
    },
  },
  {
    // upstream socket.ts "should receive message events through `send`", "should emit message events through `send`", "should emit events with callbacks"
    name: "send()/message and acknowledgements without arguments",
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => {
        socket.on("message", (...args: unknown[]) => {
          const cb = typeof args.at(-1) === "function" ? (args.pop() as () => void) : undefined;
          ctx.log("server message", args);
          socket.send("back", ...args);
          cb?.();
        });
      });
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      await next(client, "connect");
      const back = next(client, "message");
      client.send("one", Buffer.from([2]));
      ctx.log("client message", await back);
      ctx.log("bare ack", await answer(client, "message", "two"));
    },
  },
  {
    // upstream middleware.ts "should only call connection after fns": what a middleware emits arrives around the connect
    name: "emits from a middleware reach the client after its connect",
    async run(ctx) {
      ctx.server.io.use((socket: AnySocket, next: () => void) => {
        socket.emit("early", 1);
        next();
      });
      ctx.server.io.on("connection", (socket: AnySocket) => socket.emit("late", 2));
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      const order: string[] = [];
      client.on("connect", () => order.push("connect"));
      client.on("early", () => order.push("early"));
      const late = next(client, "late");
      client.on("late", () => order.push("late"));
      await late;
      ctx.log(order);
    },
  },
  {
    // upstream socket.ts "should disconnect all namespaces when calling disconnect(true)", namespaces over one manager
    name: "namespaces multiplexed on one connection",
    async run(ctx) {
      const io = ctx.server.io;
      for (const nsp of ["/", "/a"]) {
        io.of(nsp).on("connection", (socket: AnySocket) => {
          socket.on("who", (cb: (n: string) => void) => cb(socket.nsp.name));
          socket.on("disconnect", (reason: string) => ctx.log("server", nsp, reason));
        });
      }
      const main = ctx.clients.connect(ctx.kind, ctx.server.url, "/");
      await next(main, "connect");
      // Opens at once (the manager's autoConnect); a connect() more would send a second CONNECT.
      const a = main.io.socket("/a");
      await next(a, "connect");
      ctx.log("same engine", main.io.engine.id === a.io.engine.id, "ids differ", main.id !== a.id);
      ctx.log(await answer(main, "who"), await answer(a, "who"));
      const aGone = next(a, "disconnect");
      a.disconnect();
      ctx.log("client /a", (await aGone)[0]);
      ctx.log("main still", await answer(main, "who"));
      const mainGone = next(main, "disconnect");
      const [sock] = (await io.of("/").fetchSockets()) as AnySocket[];
      sock.disconnect(true);
      ctx.log("client /", (await mainGone)[0]);
    },
  },
  {
    // upstream socket.ts "should handle very large json" (its limit side). Over polling Volley
    // answers the POST with 413 and closes the session itself (README "Differences"), so the
    // reasons differ (socket.io: server "transport close", client "transport error"; Volley:
    // server "transport error", client "transport close").
    name: "an emit over maxHttpBufferSize",
    opts: { maxHttpBufferSize: 1000 },
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      const reasons = within(Promise.all([once<[string]>(socket, "disconnect"), once<[string]>(client, "disconnect")]), T, "disconnect");
      client.emit("big", "x".repeat(2000));
      const [[server], [seen]] = await reasons;
      ctx.log("server", server, "client", seen);
    },
  },
  {
    // upstream socket.ts "should emit events with several types of data (including binary)", JSON edge values
    name: "binary forms and JSON edge values",
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => {
        const bytes = Uint8Array.from([1, 2, 3, 4]);
        socket.emit("forms", bytes, bytes.buffer, new DataView(bytes.buffer, 1, 2), Buffer.from([5]), new Uint16Array([258]));
        socket.emit("json", undefined, null, new Date(0), Number.NaN, { u: undefined, n: null, nested: [undefined, 1] }, "", 0, false);
        const custom = { toJSON: () => "custom" };
        socket.emit("odd", () => 1, new Map([[1, 2]]), new Set([1]), custom, [() => 2], -0, Infinity, "end");
        socket.on("echo", (...args: any[]) => args.pop()(...args));
      });
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      const forms = next(client, "forms");
      const json = next(client, "json");
      const odd = next(client, "odd");
      await next(client, "connect");
      ctx.log("forms", await forms);
      ctx.log("json", await json);
      ctx.log("odd", await odd);
      ctx.log("echo", await answer(client, "echo", new Uint8Array([9]), null, { d: new Date(0) }, [Buffer.from([1]), "x"]));
    },
  },
  {
    // upstream socket.ts "should ignore a packet received after disconnection" (the server side): disconnect() in the connection handler
    name: "disconnect() in the connection handler",
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => {
        socket.emit("before");
        socket.disconnect();
        socket.emit("after");
      });
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      const order: unknown[] = [];
      for (const ev of ["connect", "before", "after", "connect_error", "error"]) client.on(ev, () => order.push(ev));
      const gone = next(client, "disconnect");
      client.on("disconnect", (reason: string) => order.push("disconnect " + reason));
      await gone;
      ctx.log(order);
    },
  },
  {
    // upstream socket-timeout.ts "should timeout if the client does not acknowledge the event", the client leaving first
    name: "server ack pending when the client disconnects",
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      client.on("wait", () => client.disconnect());
      const gone = next(socket, "disconnect");
      const started = Date.now();
      const result = within(new Promise((resolve) => socket.timeout(150).emit("wait", (err: Error) => resolve(show(err)))), T, "ack");
      ctx.log("reason", (await gone)[0]);
      ctx.log("ack", await result, "after the timeout", Date.now() - started >= 140);
    },
  },
  {
    // upstream handshake.ts "should disallow request if custom function in opts.allowRequest returns false"
    // A WebSocket-only client: engine.io refuses every upgrade with 400, Volley's engine with the
    // status of the refusal (403 here; README "Differences").
    name: "allowRequest refusal",
    versions: [3, 4],
    documented: (kind, server, reference) =>
      kind.transports[0] === "websocket" && server === "volley"
        ? replaceString(reference, "Unexpected server response: 400", "Unexpected server response: 403")
        : undefined,
    opts: { allowRequest: (_req: unknown, cb: (err: string | null, ok: boolean) => void) => cb("nope", false) },
    async run(ctx) {
      const client = ctx.clients.connect(ctx.kind, ctx.server.url);
      const [err] = await next<[any]>(client, "connect_error");
      const description = err.description;
      ctx.log(err.message, err.type, typeof description, description?.message, description?.code ?? description?.status, err.context?.status, err.context?.responseText);
    },
  },
  {
    // upstream namespaces.ts "should allow connections to dynamic namespaces with a regex", "should emit an error when a namespace is not allowed" (parent namespaces)
    name: "dynamic namespaces",
    async run(ctx) {
      const io = ctx.server.io;
      io.of(/^\/dyn-\d+$/).on("connection", (socket: AnySocket) => ctx.log("server", socket.nsp.name, socket.handshake.query.q, socket.handshake.auth));
      io.of((name: string, auth: Record<string, unknown>, next: (err: Error | null, ok: boolean) => void) => next(null, name === "/fn" && auth.k !== "no")).on(
        "connection",
        (socket: AnySocket) => ctx.log("server fn", socket.nsp.name),
      );
      const opts = ctx.kind.version === 2 ? { query: { q: "1" } } : { query: { q: "1" }, auth: { a: 1 } };
      const one = ctx.clients.connect(ctx.kind, ctx.server.url, "/dyn-1", opts);
      await next(one, "connect");
      const fn = ctx.clients.connect(ctx.kind, ctx.server.url, "/fn");
      await next(fn, "connect");
      ctx.log("refused", await refusal(ctx, ctx.clients.connect(ctx.kind, ctx.server.url, "/dyn-x")));
      ctx.log("namespaces", [...io._nsps.keys()].sort());
    },
  },
  {
    // upstream socket.ts "should disconnect all namespaces when calling disconnect(true)" through io.in(room).disconnectSockets(true)
    name: "disconnectSockets() on a room",
    async run(ctx) {
      const io = ctx.server.io;
      const one = await connected(ctx);
      const two = await connected(ctx);
      one.socket.join("kick");
      const reasons = within(Promise.all([once<[string]>(one.client, "disconnect"), once<[string]>(one.socket, "disconnect")]), T, "disconnect");
      io.in("kick").disconnectSockets(true);
      const [[clientReason], [serverReason]] = await reasons;
      ctx.log(clientReason, serverReason, "other still connected", two.client.connected, two.socket.connected);
      const left = within(Promise.all([once<[string]>(two.client, "disconnect")]), T, "disconnect");
      io.disconnectSockets();
      ctx.log((await left)[0]);
    },
  },
  {
    // upstream socket.ts "should emit events with several types of data": numeric event names both ways
    name: "numeric event names",
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      const server = new Promise((resolve) => socket.on("42", (...args: unknown[]) => resolve(["server 42", args])));
      const anyName = new Promise((resolve) => socket.onAny((ev: unknown) => resolve(["server any", typeof ev, ev])));
      const seen = new Promise((resolve) => client.on("7", (v: unknown) => resolve(["client 7", v])));
      socket.emit(7 as unknown as string, "x");
      client.emit(42, "y");
      ctx.log(await within(Promise.all([server, anyName, seen]), T, "numeric events"));
    },
  },
  {
    // upstream socket.ts "should receive all events emitted from namespaced client immediately and in order", with onAny
    name: "onAny and listeners for packets that arrive together",
    // One POST carries both packets: deterministic only over polling.
    only: (kind) => kind.transports.length === 1 && kind.transports[0] === "polling",
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      const order: string[] = [];
      socket.onAny((ev: string) => ev !== "first" && order.push("any " + ev));
      socket.on("a", () => order.push("on a"));
      const done = new Promise<void>((resolve) =>
        socket.on("b", () => {
          order.push("on b");
          resolve();
        }),
      );
      // The first goes out at once; the next two wait for its POST and share the following one.
      client.emit("first");
      client.emit("a");
      client.emit("b");
      await within(done, T, "events");
      ctx.log(order);
    },
  },
  {
    // upstream close.ts "should close the connection when receiving an invalid packet": a reserved event name,
    // which only the v2 client lets through
    name: "a reserved event name from a v2 client",
    versions: [2],
    // socket.io closes with "forced close" and no description; Volley with the documented
    // "parse error" and what failed to decode (README "Differences").
    documented: (_kind, server, reference) => {
      if (server === "socket.io") return undefined;
      const parseError = { data: undefined, error: "invalid payload for the packet type: EVENT" };
      return reference.map((entry) => (Array.isArray(entry) && entry[0] === "forced close" ? ["parse error", parseError, ...entry.slice(2)] : entry));
    },
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      const gone = within(Promise.all([once<[string, unknown]>(socket, "disconnect"), once<[string]>(client, "disconnect")]), T, "disconnect");
      client.emit("disconnecting", 1);
      const [[server, description], [seen]] = await gone;
      ctx.log(server, show(description), seen);
    },
  },
  {
    // upstream handshake.ts / socket.ts "should see query parameters": a CONNECT whose auth is not an object
    name: "auth that is not an object",
    versions: [4],
    async run(ctx) {
      ctx.server.io.on("connection", (socket: AnySocket) => ctx.log("server auth", socket.handshake.auth));
      const client = ctx.clients.connect(ctx.kind, ctx.server.url, "/", { auth: (cb: (v: unknown) => void) => cb("text") });
      const outcome = await within(
        new Promise((resolve) => {
          client.on("connect", () => resolve("connect"));
          client.on("connect_error", (err: Error) => resolve(["connect_error", err.message]));
          client.on("disconnect", (reason: string) => resolve(["disconnect", reason]));
        }),
        T,
        "outcome",
      );
      ctx.log(outcome);
    },
  },
  {
    // upstream socket.ts "should disconnect both client and server (server side)"
    name: "server disconnect(), then disconnect(true)",
    async run(ctx) {
      for (const close of [false, true]) {
        const { client, socket } = await connected(ctx);
        const serverReason = next(socket, "disconnect");
        const clientReason = next(client, "disconnect");
        socket.disconnect(close);
        ctx.log(close, "server", (await serverReason)[0], "client", (await clientReason)[0]);
      }
    },
  },
  {
    // upstream socket.ts "should disconnect both client and server (client side)"
    name: "client disconnect() and a dropped engine connection",
    async run(ctx) {
      {
        const { client, socket } = await connected(ctx);
        const serverReason = next(socket, "disconnect");
        const clientReason = next(client, "disconnect");
        client.disconnect();
        ctx.log("disconnect()", "server", (await serverReason)[0], "client", (await clientReason)[0]);
      }
      {
        const { client, socket } = await connected(ctx);
        const serverReason = next(socket, "disconnect");
        const clientReason = next(client, "disconnect");
        client.io.engine.close();
        ctx.log("engine.close()", "server", (await serverReason)[0], "client", (await clientReason)[0]);
      }
    },
  },
  {
    // upstream middleware.ts "should pass errors" / "should pass an object", namespaces.ts "should return an error on an unknown namespace"
    name: "middleware refusal and unknown namespace",
    async run(ctx) {
      ctx.server.io.of("/private").use((_socket: AnySocket, next: (err?: Error) => void) => {
        const err = new Error("not allowed") as Error & { data?: unknown };
        err.data = { code: 42 };
        next(err);
      });
      ctx.server.io.of("/plain").use((_socket: AnySocket, next: (err?: Error) => void) => next(new Error("plain")));
      ctx.server.io.of("/empty").use((_socket: AnySocket, next: (err?: Error) => void) => setTimeout(() => next(new Error()), 5));
      ctx.log("private", await refusal(ctx, ctx.clients.connect(ctx.kind, ctx.server.url, "/private")));
      ctx.log("plain", await refusal(ctx, ctx.clients.connect(ctx.kind, ctx.server.url, "/plain")));
      ctx.log("unknown", await refusal(ctx, ctx.clients.connect(ctx.kind, ctx.server.url, "/nope")));
      ctx.log("empty", await refusal(ctx, ctx.clients.connect(ctx.kind, ctx.server.url, "/empty")));
    },
  },
  {
    // upstream socket.ts "should see query parameters in the request", "should see query parameters sent from secondary namespace connections in handshake object"
    name: "handshake: query, auth, id, namespace",
    async run(ctx) {
      const opts = ctx.kind.version === 2 ? { query: { q: "1" } } : { query: { q: "1" }, auth: { token: "t" } };
      for (const nsp of ["/", "/chat"]) {
        const { client, socket } = await connected(ctx, nsp, opts);
        const hs = socket.handshake;
        const url = new URL(hs.url, "http://x");
        const params = [...url.searchParams.keys()].filter((k) => k !== "t" && k !== "sid").sort();
        ctx.log(nsp, {
          query: hs.query.q,
          auth: hs.auth,
          xdomain: hs.xdomain,
          secure: hs.secure,
          path: url.pathname,
          params,
          idIsEngineId: socket.id === socket.conn.id,
          idPrefixed: socket.id.startsWith("/chat#"),
          clientSeesId: client.id === socket.id,
          nsp: socket.nsp.name,
          recovered: socket.recovered,
        });
      }
    },
  },
  {
    // upstream socket-timeout.ts "should timeout if the client does not acknowledge the event", "should not timeout if the client does acknowledge the event (promise)"; broadcast with ack
    name: "server-side ack timeouts and broadcast acks",
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      client.on("double", (n: number, cb: (v: number) => void) => cb(n * 2));
      client.on("poll", (cb: (v: string) => void) => cb("yes"));
      ctx.log(await answer(socket.timeout(100), "ignored"));
      ctx.log(await socket.timeout(T).emitWithAck("double", 21));
      ctx.log(await answer(ctx.server.io.timeout(T), "poll"));
      ctx.log(await ctx.server.io.timeout(100).emitWithAck("ignored").catch((err: Error) => show(err)));
    },
  },
  {
    // upstream socket.io-client test/socket.ts "should timeout after the given delay", emitWithAck
    name: "client-side ack timeouts (timeout(), emitWithAck)",
    versions: [4],
    async run(ctx) {
      const { client, socket } = await connected(ctx);
      socket.on("echo", (v: unknown, cb: (v: unknown) => void) => cb(v));
      socket.on("silent", () => {});
      ctx.log(await answer(client.timeout(100), "silent"));
      ctx.log(await client.timeout(100).emitWithAck("silent").catch((err: Error) => show(err)));
      ctx.log(await client.timeout(T).emitWithAck("echo", Buffer.from([3])).then(show));
      ctx.log(await answer(client.timeout(T), "echo", 1));
    },
  },
  {
    // socket.io-client test/retry.ts "should preserve the order of the packets", "should fail when the server does not acknowledge the packet"
    name: "client retries (retries, ackTimeout)",
    versions: [4],
    async run(ctx) {
      const { client, socket } = await connected(ctx, "/", { retries: 2, ackTimeout: 100 });
      let flaky = 0;
      let silent = 0;
      socket.on("flaky", (v: number, cb: (r: string) => void) => {
        flaky++;
        if (flaky === 2) cb(`ok ${v}`);
      });
      socket.on("silent", () => silent++);
      ctx.log(await answer(client, "flaky", 1));
      ctx.log(await client.emitWithAck("silent").catch((err: Error) => show(err)));
      ctx.log("tries", flaky, silent);
    },
  },
  {
    // socket.io-client test/connection.ts "should reconnect by default"; the server restarted on the same port
    name: "reconnection after a server restart",
    async run(ctx) {
      const opts = { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200, randomizationFactor: 0 };
      const { client } = await connected(ctx, "/", opts);
      const manager = client.io;
      for (const ev of ["reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed"]) {
        manager.on(ev, (arg: unknown) => ctx.log("manager", ev, typeof arg === "number" ? arg : show(arg)));
      }
      const firstId = client.id;
      const clientReason = next(client, "disconnect");
      const stopped = ctx.server.stop();
      ctx.log("client", (await clientReason)[0]);
      await stopped;
      const server = await ctx.restart();
      // Not "ping": a reserved event of the v2 client, never sent.
      server.io.on("connection", (socket: AnySocket) => socket.on("rtt", (cb: (v: string) => void) => cb("back")));
      await next(client, "connect", "reconnect");
      ctx.log("new id", client.id !== firstId, "connected", client.connected);
      ctx.log(await answer(client, "rtt"));
    },
  },
  {
    // upstream connection-state-recovery.ts "should restore session and missed packets"
    name: "connection state recovery",
    versions: [4],
    opts: { connectionStateRecovery: { maxDisconnectionDuration: 5000 } },
    async run(ctx) {
      const io = ctx.server.io;
      io.on("connection", (socket: AnySocket) => {
        ctx.log("server connection", socket.recovered, [...socket.rooms].length);
        if (!socket.recovered) {
          socket.join("room1");
          socket.data.n = 7;
          socket.emit("hello", 1);
        } else {
          ctx.log("data", socket.data);
        }
        socket.on("probe", (cb: () => void) => cb());
        socket.on("disconnect", (reason: string) => {
          ctx.log("server disconnect", reason);
          io.to("room1").emit("missed", "a");
          io.emit("missed", "b", Buffer.from([1]));
          io.to("elsewhere").emit("missed", "c");
        });
      });
      const client = ctx.clients.connect(ctx.kind, ctx.server.url, "/", { reconnection: true, reconnectionDelay: 100, randomizationFactor: 0 });
      const hello = next(client, "hello");
      await next(client, "connect");
      ctx.log("first connect", client.recovered);
      await hello;
      const id = client.id;
      // The last argument is the packet's offset, opaque (socket.io-client hands it on).
      client.on("missed", (...args: unknown[]) => ctx.log("missed", show(args.slice(0, -1)), typeof args.at(-1)));
      const clientReason = next(client, "disconnect");
      client.io.engine.close();
      ctx.log("client", (await clientReason)[0]);
      await next(client, "connect", "reconnect");
      ctx.log("recovered", client.recovered, "same id", client.id === id);
      // A round trip: the missed packets, sent before the answer, have all arrived after it.
      await answer(client, "probe");
    },
  },
];

for (const scenario of scenarios) {
  for (const kind of CLIENT_KINDS) {
    if (scenario.versions && !scenario.versions.includes(kind.version)) continue;
    if (scenario.only && !scenario.only(kind)) continue;
    test(`${scenario.name} — socket.io-client ${kind.name}: Volley and Volley+engine.io as socket.io`, { timeout: 20000 }, async () => {
      // The three servers side by side: the runs share nothing (each its own port and clients).
      const runs = await Promise.all(SERVER_KINDS.map((serverKind) => runOn(serverKind, kind, scenario)));
      const seen = new Map<ServerKind, unknown[]>(SERVER_KINDS.map((serverKind, i) => [serverKind, runs[i]]));
      const reference = seen.get("socket.io");
      // MATRIX_PRINT=1 shows what was compared.
      if (process.env.MATRIX_PRINT) console.log(JSON.stringify(reference));
      for (const serverKind of SERVER_KINDS) {
        const expected = scenario.documented?.(kind, serverKind, reference ?? []) ?? reference;
        assert.deepEqual(seen.get(serverKind), expected, `${serverKind} differs from socket.io`);
      }
    });
  }
}

/** `value` with every string equal to `from` replaced by `to`, at any depth. */
function replaceString(value: unknown[], from: string, to: string): unknown[] {
  const walk = (v: unknown): unknown =>
    v === from ? to : Array.isArray(v) ? v.map(walk) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v;
  return value.map(walk);
}

async function runOn(serverKind: ServerKind, kind: ClientKind, scenario: Scenario): Promise<unknown[]> {
  const opts = { allowEIO3: true, ...scenario.opts };
  const log: unknown[] = [];
  const clients = new ClientSet();
  let server = await startServer(serverKind, opts);
  try {
    await scenario.run({
      server,
      kind,
      clients,
      log: (...parts) => log.push(show(parts)),
      restart: async () => {
        await server.stop();
        server = await startServer(serverKind, opts, server.port);
        return server;
      },
    });
  } finally {
    clients.closeAll();
    await server.stop();
  }
  return log;
}
