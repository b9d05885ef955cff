import { EventEmitter } from "node:events";
import { type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { serialize as serializeCookie } from "cookie";
import debugModule from "debug";
import { ErrorCode, ErrorMessages, errorJson, statusOf, type ErrorCodeValue, type ErrorContext } from "./errors";
import { resolveOptions, type AttachOptions, type ResolvedServerOptions, type ServerOptions, type WsServerLike } from "./options";
import { corsMiddleware } from "./cors";
import { parseQuery, queryValue, type Query } from "./query";
import { Socket } from "./socket";
import { Polling } from "./transports/polling";
import { JsonpPolling } from "./transports/jsonp";
import { WebSocketTransport } from "./transports/websocket";
import { UpgradeResponse, endRawResponse, pushHeaderLines } from "./websocket/upgrade-response";
import { generateSessionId } from "../internal/session-id";
import { shareRequestStrings } from "./shared-strings";
import type { WsConnection } from "./websocket/ws-connection";
import { WsServer } from "./websocket/ws-server";
import type { EngineRequest, Transport, TransportName } from "./transport";

const debug = debugModule("volley:engine");

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface ConnectionError {
  req: IncomingMessage;
  code: ErrorCodeValue;
  message: string;
  context: ErrorContext;
}

type Verdict = (code?: ErrorCodeValue, context?: ErrorContext) => void;

/** Per upgrade request: what goes into the 101 response and, for a handshake, the new id. */
interface PendingUpgrade {
  res: UpgradeResponse;
  id: string | undefined;
}

/**
 * The Engine.IO server: answers handshakes, routes polling requests and WebSocket
 * upgrades to sessions, and refuses everything else with a documented code.
 *
 * Events: `connection(socket)`, `connection_error({ req, code, message, context })`,
 * `initial_headers(headers, req)`, `headers(headers, req)`, `flush(socket, packets)`,
 * `drain(socket)`.
 */
export class Server extends EventEmitter {
  static readonly errors = ErrorCode;
  static readonly errorMessages = ErrorMessages;

  readonly opts: ResolvedServerOptions;
  /** Open sessions by id (a prototype-less object, so any id string is safe to look up). */
  clients: Record<string, Socket> = Object.create(null);
  clientsCount = 0;
  httpServer?: HttpServer;
  /** Set by `shutdown()`: new handshakes are refused. */
  private closing = false;

  private readonly middlewares: Middleware[] = [];
  /** The WebSocket server, when the websocket transport is on (see init). */
  ws: WsServerLike | undefined;
  /**
   * Upgrades handed to the WebSocket server, for its "headers" event. Kept off the request
   * (which lives as long as its session) so that no property is added to it and deleted.
   */
  private readonly pendingUpgrades = new WeakMap<IncomingMessage, PendingUpgrade>();
  private readonly onTransportHeaders: (this: Transport, headers: OutgoingHttpHeaders, req: IncomingMessage) => void;

  constructor(opts: ServerOptions = {}) {
    super();
    this.opts = resolveOptions(opts);
    if (opts.generateId) this.generateId = opts.generateId;
    if (opts.cors) this.use(corsMiddleware(opts.cors) as Middleware);
    const server = this;
    // One listener per server, shared by its polling transports (`this` is the transport).
    this.onTransportHeaders = function (this: Transport, headers, req) {
      server.addHeaders(headers, req as EngineRequest, this.sid);
    };
    this.init();
  }

  /**
   * The WebSocket server (`engine.ws`): a `ws` server with permessage-deflate or a
   * `wsEngine`, Volley's own otherwise. Made again when the HTTP server listens again
   * after a close, as engine.io does.
   */
  private init(): void {
    if (!this.opts.transports.includes("websocket")) return;
    this.ws?.close();
    const Engine = this.opts.wsEngine ?? (this.opts.perMessageDeflate ? WebSocketServer : undefined);
    const ws: WsServerLike = Engine
      ? (new Engine({
          noServer: true,
          clientTracking: false,
          perMessageDeflate: this.opts.perMessageDeflate,
          maxPayload: this.opts.maxHttpBufferSize,
        }) as unknown as WsServerLike)
      : new WsServer(this.opts.maxHttpBufferSize);
    ws.on("headers", (lines, req) => {
      lines.push(...this.upgradeHeaderLines(req as EngineRequest, this.pendingUpgrades.get(req)));
    });
    this.ws = ws;
  }

  /** Session id for a new handshake; override, or pass `generateId` in the options. */
  generateId(_req: IncomingMessage): string | PromiseLike<string> {
    return generateSessionId();
  }

  /** Transports a session on `transport` may upgrade to. */
  upgrades(transport: string): string[] {
    if (!this.opts.allowUpgrades || transport !== "polling") return [];
    return this.opts.transports.includes("websocket") ? ["websocket"] : [];
  }

  /** Express-style middleware, run for polling requests and WebSocket upgrades. */
  use(fn: Middleware): void {
    this.middlewares.push(fn);
  }

  // ---- HTTP ----

  /**
   * Parses the query onto the request as `_query` (kept if a framework already set it).
   * engine.io's private hook: tests replace it to tamper with requests.
   */
  prepare(req: IncomingMessage): void {
    const request = req as EngineRequest;
    if (!request._query) request._query = parseQuery(req.url);
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    this.prepare(req);
    const request = req as EngineRequest;
    this.applyMiddlewares(request, res, (err) => {
      if (err !== undefined) return this.refuse(request, res, ErrorCode.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE", error: err });
      if (res.headersSent || res.writableEnded) return;
      this.verify(request, false, (code, context) => {
        if (code !== undefined) return this.refuse(request, res, code, context ?? {});
        const sid = sidOf(request._query);
        if (sid !== undefined) this.clients[sid].transport.onRequest(request, res);
        else this.handshakePolling(request, res);
      });
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.prepare(req);
    const request = req as EngineRequest;
    // Until `ws` takes the socket over, a reset would be an unhandled 'error'.
    socket.on("error", destroyOnError);
    const upgradeHead = head.length > 0 ? Buffer.from(head) : head;
    const res = new UpgradeResponse(request, socket);
    this.applyMiddlewares(request, res as unknown as ServerResponse, (err) => {
      if (err !== undefined) return this.abortUpgrade(request, socket, ErrorCode.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE", error: err });
      if (res.writableEnded) return;
      this.verify(request, true, (code, context) => {
        if (code !== undefined) return this.abortUpgrade(request, socket, code, context ?? {});
        // Middlewares such as express-session finish their headers on writeHead().
        res.writeHead();
        const sid = sidOf(request._query);
        if (sid !== undefined) {
          this.acceptWebSocket(request, socket, upgradeHead, { res, id: undefined });
          return;
        }
        this.resolveId(request, (id, error) => {
          if (id === undefined) {
            return this.abortUpgrade(request, socket, ErrorCode.BAD_REQUEST, { name: "ID_GENERATION_ERROR", error });
          }
          this.acceptWebSocket(request, socket, upgradeHead, { res, id });
        });
      });
    });
  }

  private acceptWebSocket(req: EngineRequest, socket: Duplex, head: Buffer, pending: PendingUpgrade): void {
    const ws = this.ws;
    if (socket.destroyed || !ws) return;
    // The 101 response and the open packet (written by the flush queue's tick, queued
    // during the upgrade) leave in one write. The uncork tick comes after that flush, and
    // runs on every path: a refused upgrade, a throwing listener, an upgrade of a session.
    socket.cork();
    try {
      this.pendingUpgrades.set(req, pending);
      ws.handleUpgrade(req, socket, head, (websocket) => {
        this.pendingUpgrades.delete(req);
        socket.off("error", destroyOnError);
        this.onWebSocket(req, websocket, pending.id);
      });
    } finally {
      process.nextTick(uncork, socket);
    }
  }

  /**
   * The 101 response's own lines: the middlewares' headers and `headers` listeners'. No
   * session cookie: engine.io sets it on polling responses only.
   */
  private upgradeHeaderLines(req: EngineRequest, pending: PendingUpgrade | undefined): string[] {
    const headers = pending?.res.getHeaders() ?? {};
    this.addHeaders(headers, req);
    const lines: string[] = [];
    for (const key of Object.keys(headers)) pushHeaderLines(lines, key, headers[key]);
    return lines;
  }

  private onWebSocket(req: EngineRequest, websocket: WebSocket | WsConnection, id: string | undefined): void {
    req.websocket = websocket;
    if (id !== undefined) {
      this.openSession(id, req, this.createWebSocketTransport(req, websocket));
      return;
    }
    const sid = sidOf(req._query) as string;
    const client = Object.hasOwn(this.clients, sid) ? this.clients[sid] : undefined;
    if (!client || client.upgrading || client.upgraded || this.upgrades(client.transport.name).length === 0) {
      debug("refusing upgrade of %s", sid);
      websocket.close();
      return;
    }
    client._maybeUpgrade(this.createWebSocketTransport(req, websocket));
  }

  private createWebSocketTransport(req: EngineRequest, websocket: WebSocket | WsConnection): WebSocketTransport {
    const transport = new WebSocketTransport(req, websocket);
    transport.perMessageDeflate = this.opts.perMessageDeflate;
    return transport;
  }

  /**
   * The refusal codes, in the official server's order of checks: transport, Origin header,
   * then the session (unknown id, transport mismatch) or, for a handshake, the method, the
   * transport and `allowRequest`. The protocol revision of a handshake comes after these
   * (verifyProtocol), as in engine.io.
   */
  private verify(req: EngineRequest, upgrade: boolean, verdict: Verdict): void {
    const query = req._query;
    const transport = queryValue(query, "transport");
    if (transport === undefined || !this.opts.transports.includes(transport as TransportName)) {
      return verdict(ErrorCode.UNKNOWN_TRANSPORT, { transport });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && hasInvalidHeaderChar(origin)) {
      return verdict(ErrorCode.BAD_REQUEST, { name: "INVALID_ORIGIN", origin });
    }
    const sid = sidOf(query);
    if (sid !== undefined) {
      if (!Object.hasOwn(this.clients, sid)) return verdict(ErrorCode.UNKNOWN_SID, { sid });
      const client = this.clients[sid];
      const previousTransport = client.transport.name;
      if (!upgrade && previousTransport !== transport) {
        return verdict(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", transport, previousTransport });
      }
      if (upgrade && transport !== "websocket") {
        return verdict(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", transport, previousTransport });
      }
      // A polling session keeps the revision it was opened with whatever later requests say
      // (as engine.io 6.6.9 does); a WebSocket for another revision would garble it.
      const protocol = protocolOf(query);
      if (upgrade && client.protocol !== protocol) {
        return verdict(ErrorCode.BAD_REQUEST, { name: "PROTOCOL_MISMATCH", protocol, previousProtocol: client.protocol });
      }
      return verdict();
    }
    if (req.method !== "GET") return verdict(ErrorCode.BAD_HANDSHAKE_METHOD, { method: req.method });
    if (this.closing) return verdict(ErrorCode.BAD_REQUEST, { name: "SERVER_CLOSING" });
    if (transport === "websocket" && !upgrade) return verdict(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
    if (upgrade && transport !== "websocket") return verdict(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
    const allowRequest = this.opts.allowRequest;
    if (!allowRequest) return this.verifyProtocol(req, verdict);
    let answered = false;
    try {
      allowRequest(req, (message, success) => {
        if (answered) return;
        answered = true;
        if (success) this.verifyProtocol(req, verdict);
        else verdict(ErrorCode.FORBIDDEN, { message: message ?? undefined });
      });
    } catch (error) {
      if (!answered) {
        answered = true;
        verdict(ErrorCode.FORBIDDEN, { error });
      }
    }
  }

  /** A handshake's revision: 4, or 3 (also when `EIO` is missing or other) with `allowEIO3`. */
  private verifyProtocol(req: EngineRequest, verdict: Verdict): void {
    const protocol = protocolOf(req._query);
    if (protocol === 3 && !this.opts.allowEIO3) return verdict(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol });
    verdict();
  }

  private handshakePolling(req: EngineRequest, res: ServerResponse): void {
    this.resolveId(req, (id, error) => {
      if (id === undefined) return this.refuse(req, res, ErrorCode.BAD_REQUEST, { name: "ID_GENERATION_ERROR", error });
      const protocol = protocolOf(req._query);
      const transport =
        protocol === 3 && queryValue(req._query, "j") !== undefined ? new JsonpPolling(req) : new Polling(req);
      transport.maxHttpBufferSize = this.opts.maxHttpBufferSize;
      transport.httpCompression = this.opts.httpCompression;
      transport.on("headers", this.onTransportHeaders);
      this.openSession(id, req, transport, res);
    });
  }

  /** Creates the session; the handshake's own response (polling) is answered before `connection`. */
  private openSession(id: string, req: EngineRequest, transport: Transport, res?: ServerResponse): void {
    const protocol = transport.protocol;
    const socket = new Socket(id, this, transport, req, protocol);
    if (debug.enabled) debug("new session %s (Engine.IO v%d, %s)", id, protocol, transport.name);
    if (res) {
      // The handshake's response carries the open packet (and initialPacket) alone, written
      // before `connection`, as engine.io does: what the handler sends goes in the next poll.
      transport.onRequest(req, res);
      socket.flush();
    }
    // A session can end while it opens (its open packet alone may pass maxBufferedBytes).
    if (socket.readyState === "closed") return;
    shareRequestStrings(req, queryValue(req._query, "t") === undefined);
    this.clients[id] = socket;
    this.clientsCount++;
    this.emit("connection", socket);
  }

  /** @internal Called by a session as it closes, before its "close" event. */
  removeClient(socket: Socket): void {
    if (this.clients[socket.id] === socket) {
      delete this.clients[socket.id];
      this.clientsCount--;
    }
  }

  private resolveId(req: EngineRequest, done: (id: string | undefined, error?: unknown) => void): void {
    const accept = (id: unknown) => {
      if (typeof id !== "string" || id.length === 0 || Object.hasOwn(this.clients, id)) {
        return done(undefined, new Error("invalid or duplicate session id"));
      }
      done(id);
    };
    let result: string | PromiseLike<string>;
    try {
      result = this.generateId(req);
    } catch (error) {
      return done(undefined, error);
    }
    if (typeof result === "string") return accept(result);
    Promise.resolve(result).then(accept, (error: unknown) => done(undefined, error));
  }

  /** The initial response of a session gets the cookie; every response passes `headers` listeners. */
  private addHeaders(headers: OutgoingHttpHeaders, req: EngineRequest, id?: string): void {
    const isInitial = sidOf(req._query) === undefined;
    if (isInitial) {
      const cookie = this.opts.cookie;
      if (cookie && id) {
        const { name, ...options } = cookie;
        headers["Set-Cookie"] = [serializeCookie(name, id, options)];
      }
      this.emit("initial_headers", headers, req);
    }
    this.emit("headers", headers, req);
  }

  private applyMiddlewares(req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void {
    const middlewares = this.middlewares;
    if (middlewares.length === 0) return done();
    let i = 0;
    const next = (err?: unknown): void => {
      if (err !== undefined && err !== null) return done(err);
      const middleware = middlewares[i++];
      if (!middleware) return done();
      try {
        middleware(req, res, next);
      } catch (error) {
        done(error);
      }
    };
    next();
  }

  private refuse(req: IncomingMessage, res: ServerResponse, code: ErrorCodeValue, context: ErrorContext): void {
    debug("refusing %s %s: %s", req.method, req.url, ErrorMessages[code]);
    this.emit("connection_error", { req, code, message: ErrorMessages[code], context } satisfies ConnectionError);
    if (res.headersSent) return;
    const body = errorBody(code, context);
    res.writeHead(statusOf(code), { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  private abortUpgrade(req: IncomingMessage, socket: Duplex, code: ErrorCodeValue, context: ErrorContext): void {
    debug("refusing upgrade %s: %s", req.url, ErrorMessages[code]);
    this.emit("connection_error", { req, code, message: ErrorMessages[code], context } satisfies ConnectionError);
    endRawResponse(socket, statusOf(code), ["Connection: close", "Content-Type: application/json"], errorBody(code, context));
  }

  // ---- lifecycle ----

  /**
   * Graceful close: refuses new sessions, closes each open one after writing what it has
   * buffered (a polling session with nothing buffered and no request waiting is dropped at
   * once), and resolves once all are closed; whatever is still open after `timeout` ms is
   * dropped.
   */
  shutdown(timeout = 2000): Promise<void> {
    this.closing = true;
    const open = Object.keys(this.clients).map((id) => this.clients[id]);
    return new Promise((resolve) => {
      let left = open.length;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.close();
        resolve();
      };
      const timer = setTimeout(finish, timeout);
      const onClosed = () => {
        if (--left === 0) finish();
      };
      if (left === 0) return finish();
      for (const socket of open) {
        socket.once("close", onClosed);
        const unreachable = socket.transport.name === "polling" && !socket.transport.writable;
        socket.close(unreachable && socket.bufferedPackets.length === 0);
      }
    });
  }

  /** Closes every session at once ("forced close") and stops accepting WebSockets. */
  close(): this {
    for (const id of Object.keys(this.clients)) this.clients[id].close(true);
    this.ws?.close();
    return this;
  }

  /**
   * Serves `options.path` on `server` for requests and upgrades; every other request
   * still reaches the listeners that were there before, and other upgrade handlers
   * keep `destroyUpgradeTimeout` ms to answer theirs.
   */
  attach(server: HttpServer, options: AttachOptions = {}): void {
    const path = computePath(options);
    const exact = options.addTrailingSlash === false;
    const destroyUpgrade = options.destroyUpgrade !== false;
    const destroyUpgradeTimeout = options.destroyUpgradeTimeout ?? 1000;
    this.httpServer = server;
    server.on("close", () => this.close());
    server.on("listening", () => this.init());
    const previous = server.listeners("request").slice(0) as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (matchesPath(req.url, path, exact)) {
        this.handleRequest(req, res);
        return;
      }
      for (const listener of previous) listener.call(server, req, res);
    });
    if (!this.opts.transports.includes("websocket")) return;
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (matchesPath(req.url, path, exact)) {
        this.handleUpgrade(req, socket, head);
        return;
      }
      if (!destroyUpgrade) return;
      // Node stops listening for errors on a socket it hands to 'upgrade': a reset before
      // the timer would be an unhandled 'error' (CVE-2022-41940).
      socket.on("error", destroyOnError);
      setTimeout(() => {
        const raw = socket as Duplex & { bytesWritten?: number };
        if (socket.writable && (raw.bytesWritten ?? 0) <= 0) socket.end();
      }, destroyUpgradeTimeout).unref();
    });
  }
}

/** The session a request is for; an empty `sid` is a handshake, as in engine.io. */
function sidOf(query: Query): string | undefined {
  const sid = queryValue(query, "sid");
  return sid === "" ? undefined : sid;
}

/** engine.io's rule: revision 4 only when `EIO` says so, 3 otherwise (even when missing). */
function protocolOf(query: Query): 3 | 4 {
  return query.EIO === "4" ? 4 : 3;
}

function computePath(options: AttachOptions): string {
  const path = (options.path ?? "/engine.io").replace(/\/$/, "");
  return options.addTrailingSlash === false ? path : path + "/";
}

function matchesPath(url: string | undefined, path: string, exact: boolean): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  if (!exact || url.length === path.length) return true;
  const next = url.charCodeAt(path.length);
  return next === 63 /* ? */ || next === 47 /* / */;
}

/** RFC 7230 field-value characters: tab, visible ASCII, obs-text; nothing else. */
function hasInvalidHeaderChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!(c === 9 || (c >= 32 && c !== 127 && c <= 255))) return true;
  }
  return false;
}

/** `allowRequest` may word its refusal; other codes carry their own message. */
function errorBody(code: ErrorCodeValue, context: ErrorContext): string {
  return errorJson(code, code === ErrorCode.FORBIDDEN && typeof context.message === "string" ? context.message : ErrorMessages[code]);
}

function uncork(socket: Duplex): void {
  socket.uncork();
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}
