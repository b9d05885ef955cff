/**
 * Shared pieces of the example tests: loading an example from the repository (it imports
 * the built package, `dist/`), HTTP requests with fetch, socket.io-client connections, and
 * a second WebSocket endpoint (`ws`, noServer) on the same HTTP server, to prove that
 * Volley leaves other upgrade handlers alone.
 */
import assert from "node:assert/strict";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { join, resolve } from "node:path";
import { io as connect, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { WebSocket, WebSocketServer } from "ws";
import { T, within } from "../helpers";

/** The repository root (this file runs from build/test/examples/). */
export const ROOT = resolve(__dirname, "../../..");

/** The shared wait bound, re-exported for the tests of this directory. */
export { T };

/** What every example's `start(port, host)` resolves with. */
export interface Running {
  httpServer: HttpServer;
  port: number;
  close(): Promise<void>;
}

/** `require`s `examples/<name>/<file>` (plain JavaScript that imports `../../dist`). */
export function loadExample<M>(name: string, file = "server.js"): M {
  return require(join(ROOT, "examples", name, file)) as M;
}

export interface HttpResult {
  status: number;
  type: string;
  text: string;
}

/** One HTTP request; the body is sent as JSON when given. */
export async function http(url: string, method = "GET", body?: unknown): Promise<HttpResult> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await within(fetch(url, init), T, `${method} ${url}`);
  const text = await within(res.text(), T, `body of ${method} ${url}`);
  return { status: res.status, type: res.headers.get("content-type") ?? "", text };
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Connects a socket.io-client (no reconnection) and waits for `connect`. */
export async function connected(url: string, opts: ClientOptions = {}, track?: ClientSocket[]): Promise<ClientSocket> {
  const socket = connect(url, { forceNew: true, reconnection: false, ...opts });
  track?.push(socket);
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    }),
    T,
    `connect to ${url}`,
  );
  return socket;
}

/** Waits until the client's transport is WebSocket (after the upgrade from polling). */
export async function upgraded(socket: ClientSocket): Promise<void> {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await within(new Promise<void>((resolve) => engine.once("upgrade", () => resolve())), T, "upgrade to websocket");
}

/** Emits with an acknowledgement and resolves with the ack's arguments. */
export function ack<R = unknown>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<R> {
  return within(socket.timeout(T).emitWithAck(event, ...args) as Promise<R>, T + 500, `ack of ${event}`);
}

/** Resolves with the first argument of the next `event` on the client. */
export function next<R = unknown>(socket: ClientSocket, event: string): Promise<R> {
  return within(new Promise<R>((resolve) => socket.once(event, (value: R) => resolve(value))), T, `event ${event}`);
}

/**
 * A second WebSocket endpoint on `server`, the way `ws` documents sharing a port: its own
 * `upgrade` listener that takes only `path`. It echoes "echo: <message>".
 */
export function addOtherWebSocket(server: HttpServer, path: string): { close(): void } {
  const wss = new WebSocketServer({ noServer: true });
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(`echo: ${String(data)}`)));
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url !== path) return;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  };
  server.on("upgrade", onUpgrade);
  return {
    close() {
      server.off("upgrade", onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/** Opens a plain WebSocket to `url`, sends `text` and checks the echo. */
export async function assertWebSocketEcho(url: string, text: string, expected = `echo: ${text}`): Promise<void> {
  const ws = new WebSocket(url);
  try {
    const reply = new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send(text));
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
    assert.equal(await within(reply, T, `WebSocket echo on ${url}`), expected);
  } finally {
    ws.terminate();
  }
}

/**
 * The checks every framework example shares: the framework's routes (a JSON GET, a JSON
 * POST that reaches sockets, its own 404), the served client bundle, Socket.IO over
 * WebSocket and over polling only, and another upgrade handler on the same server.
 */
export async function checkFrameworkExample(running: Running, notFound: (r: HttpResult, path: string) => void): Promise<void> {
  const base = `http://127.0.0.1:${running.port}`;
  const clients: ClientSocket[] = [];
  const other = addOtherWebSocket(running.httpServer, "/other");
  try {
    const ws = await connected(base, {}, clients);
    await upgraded(ws);
    const polling = await connected(base, { transports: ["polling"] }, clients);

    assert.equal(await ack(ws, "echo", "hi"), "hi (via websocket)");
    assert.equal(await ack(polling, "echo", "hey"), "hey (via polling)");

    const status = await http(`${base}/api/status`);
    assert.equal(status.status, 200);
    assert.match(status.type, /^application\/json/);
    assert.deepEqual(JSON.parse(status.text), { clients: 2 });

    // A framework route (with a JSON body) that emits to every socket.
    const heard = Promise.all([next(ws, "announcement"), next(polling, "announcement")]);
    heard.catch(() => undefined); // awaited below, unless an assertion fails first
    const announce = await http(`${base}/api/announce`, "POST", { text: "lunch" });
    assert.equal(announce.status, 200);
    assert.deepEqual(JSON.parse(announce.text), { sent: true });
    assert.deepEqual(await heard, ["lunch", "lunch"]);

    // Paths next to Volley's are still the framework's.
    for (const path of ["/nope", "/socket.iox", "/socket.io.js"]) notFound(await http(base + path), path);

    const bundle = await http(`${base}/socket.io/socket.io.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.type, /^application\/javascript/);
    assert.match(bundle.text, /Socket\.IO v4/);

    await assertWebSocketEcho(`ws://127.0.0.1:${running.port}/other`, "ping");
    // ...while Socket.IO keeps working over its own upgraded WebSocket.
    assert.equal(await ack(ws, "echo", "still"), "still (via websocket)");
  } finally {
    for (const c of clients) c.disconnect();
    other.close();
  }
}
