/**
 * The servers and official clients of the differential tests: the same scenario runs on the
 * official socket.io 4.8 server, on Volley, and on Volley bound to an official engine.io
 * Server (`io.bind(engine)`), with socket.io-client v2, v3 and v4.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as SioServer } from "socket.io";
import { Server as EioServer } from "engine.io";
import { io as connectV4 } from "socket.io-client";
import { Server } from "../../src/index";

/* eslint-disable @typescript-eslint/no-explicit-any */

export type ServerKind = "socket.io" | "volley" | "volley+engine.io";
export const SERVER_KINDS: ServerKind[] = ["socket.io", "volley", "volley+engine.io"];

/** Either server, through the API both share (typed loosely: the two type sets differ). */
export type AnyIo = any;
/** A server-side socket of either server. */
export type AnySocket = any;
/** A client socket of any socket.io-client version. */
export type AnyClient = any;

export interface RunningServer {
  kind: ServerKind;
  io: AnyIo;
  http: HttpServer;
  port: number;
  url: string;
  /** Closes the Socket.IO server (`io.close()`) and waits until the HTTP server is closed. */
  stop(): Promise<void>;
}

/** Starts a server of `kind` on `port` (0: any free one) of the loopback interface. */
export async function startServer(kind: ServerKind, opts: Record<string, unknown> = {}, port = 0): Promise<RunningServer> {
  const http = createServer();
  let io: AnyIo;
  if (kind === "socket.io") io = new SioServer(http, opts);
  else if (kind === "volley") io = new Server(http, opts);
  else {
    const engine = new EioServer({ ...opts, path: "/socket.io" } as ConstructorParameters<typeof EioServer>[0]);
    engine.attach(http, { path: "/socket.io" });
    io = new Server(opts);
    io.bind(engine);
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  const sessions = new Set<EngineIoSocket>();
  if (kind !== "volley") io.engine.on("connection", (socket: EngineIoSocket) => sessions.add(socket));
  let stopped: Promise<void> | undefined;
  return {
    kind,
    io,
    http,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    stop() {
      return (stopped ??= stopServer(kind, io, http, sessions));
    },
  };
}

async function stopServer(kind: ServerKind, io: AnyIo, http: HttpServer, sessions: Set<EngineIoSocket>): Promise<void> {
  const closed = new Promise<void>((resolve) => http.once("close", () => resolve()));
  // Keep-alive connections left idle by closed sessions would hold the HTTP server open.
  const sweeper = setInterval(() => http.closeIdleConnections(), 20);
  const force = setTimeout(() => http.closeAllConnections(), 2000);
  try {
    await io.close();
    releaseClosingPolls(sessions);
    // A bound engine's HTTP server is the application's to close (as with socket.io).
    if (kind === "volley+engine.io" && http.listening) http.close();
    if (http.listening) await closed;
  } finally {
    clearInterval(sweeper);
    clearTimeout(force);
  }
}

/** An engine.io session, as far as the clean-up below reaches into it. */
type EngineIoSocket = { transport?: { shouldClose?: () => void } };

/**
 * engine.io gives a polling transport that closes with no GET waiting 30 s for one, on a
 * timer that neither engine.close() nor the session's own close clears (and that keeps the
 * test process alive): end those waits now.
 */
function releaseClosingPolls(sessions: Set<EngineIoSocket>): void {
  for (const socket of sessions) socket.transport?.shouldClose?.();
  sessions.clear();
}

export type ClientVersion = 2 | 3 | 4;

export interface ClientKind {
  name: string;
  version: ClientVersion;
  transports: Array<"polling" | "websocket">;
}

export const CLIENT_KINDS: ClientKind[] = [
  { name: "v2 polling+websocket", version: 2, transports: ["polling", "websocket"] },
  { name: "v2 websocket", version: 2, transports: ["websocket"] },
  { name: "v3 polling", version: 3, transports: ["polling"] },
  { name: "v3 websocket", version: 3, transports: ["websocket"] },
  { name: "v4 polling", version: 4, transports: ["polling"] },
  { name: "v4 websocket", version: 4, transports: ["websocket"] },
  { name: "v4 polling+websocket", version: 4, transports: ["polling", "websocket"] },
];

const connectors: Record<ClientVersion, (url: string, opts: object) => AnyClient> = {
  2: require("socket.io-client-v2"),
  3: require("socket.io-client-v3"),
  4: connectV4,
};

/** Clients made by `connectClient`, each closed by `closeClients`. */
export class ClientSet {
  private readonly sockets: AnyClient[] = [];

  connect(kind: ClientKind, url: string, nsp = "/", opts: Record<string, unknown> = {}): AnyClient {
    const socket = connectors[kind.version](url + nsp, { forceNew: true, reconnection: false, transports: kind.transports, ...opts });
    this.sockets.push(socket);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.sockets.splice(0)) {
      socket.disconnect();
      socket.io.disconnect();
    }
  }
}

/** Observations as the differential matrices compare them (see test/helpers.ts). */
export { show } from "../helpers";
