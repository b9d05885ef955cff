import { EventEmitter } from "node:events";
import { type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { serialize as serializeCookie } from "cookie";
import debugModule from "debug";
import { ErrorCode, ErrorMessages, refusalBody, statusOf, type ErrorCodeValue, type ErrorContext } from "./errors";
import { resolveOptions, type AttachOptions, type ResolvedServerOptions, type ServerOptions, type WsServerLike } from "./options";
import { corsMiddleware } from "./cors";
import { parseQuery, protocolOf, queryValue, sidOf } from "./query";
import { Socket } from "./socket";
import { Polling } from "./transports/polling";
import { JsonpPolling } from "./transports/jsonp";
import { generateSessionId } from "../internal/session-id";
import { shareRequestStrings } from "./shared-strings";
import { WsServer } from "./websocket/ws-server";
import type { EngineRequest, Transport } from "./transport";
import { attach } from "./attach";
import { runMiddlewares, type Middleware } from "./middleware";
import { shutdown } from "./shutdown";
import { handleUpgrade, upgradeHeaderLines } from "./upgrade";
import { OK, verify, verifyProtocol, type Verdict } from "./verify";
import { JSON_CONTENT_TYPE } from "./constants";

const debug = debugModule("volley:engine");

export type { Middleware } from "./middleware";

export interface ConnectionError {
  req: IncomingMessage;
  code: ErrorCodeValue;
  message: string;
  context: ErrorContext;
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
  /** @internal Set by `shutdown()`: new handshakes are refused. */
  closing = false;

  private readonly middlewares: Middleware[] = [];
  /** The WebSocket server, when the websocket transport is on (see init). */
  ws: WsServerLike | undefined;
  private readonly onTransportHeaders: (this: Transport, headers: OutgoingHttpHeaders, req: IncomingMessage) => void;

  constructor(opts: ServerOptions = {}) {
    super();
    this.opts = resolveOptions(opts);
    if (opts.generateId) this.generateId = opts.generateId;
    if (opts.cors) this.use(corsMiddleware(opts.cors) as Middleware);
    const addHeaders = this.addHeaders.bind(this);
    // One listener per server, shared by its polling transports (`this` is the transport).
    this.onTransportHeaders = function (this: Transport, headers, req) {
      addHeaders(headers, req as EngineRequest, this.sid);
    };
    this.init();
  }

  /**
   * The WebSocket server (`engine.ws`): a `ws` server with permessage-deflate or a
   * `wsEngine`, Volley's own otherwise. Made again when the HTTP server listens again
   * after a close, as engine.io does.
   * @internal
   */
  init(): void {
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
      lines.push(...upgradeHeaderLines(this, req));
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
      this.checkRequest(request, false, (verdict) => {
        if (verdict !== OK) return this.refuse(request, res, verdict.code, verdict.context);
        const sid = sidOf(request._query);
        if (sid !== undefined) this.clients[sid].transport.onRequest(request, res);
        else this.handshakePolling(request, res);
      });
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    handleUpgrade(this, req, socket, head);
  }

  /**
   * @internal The refusal checks (`verify`), then for a handshake `allowRequest` (the
   * application's, maybe asynchronous) and the protocol revision, in engine.io's order.
   */
  checkRequest(req: EngineRequest, upgrade: boolean, done: (verdict: Verdict) => void): void {
    const verdict = verify(req, upgrade, this);
    if (verdict !== OK || sidOf(req._query) !== undefined) return done(verdict);
    const allowRequest = this.opts.allowRequest;
    if (!allowRequest) return done(verifyProtocol(req._query, this.opts.allowEIO3));
    let answered = false;
    try {
      allowRequest(req, (message, success) => {
        if (answered) return;
        answered = true;
        if (success) done(verifyProtocol(req._query, this.opts.allowEIO3));
        else done({ code: ErrorCode.FORBIDDEN, context: { message: message ?? undefined } });
      });
    } catch (error) {
      if (!answered) {
        answered = true;
        done({ code: ErrorCode.FORBIDDEN, context: { error } });
      }
    }
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

  /** @internal Creates the session; the handshake's own response (polling) is answered before `connection`. */
  openSession(id: string, req: EngineRequest, transport: Transport, res?: ServerResponse): void {
    const protocol = transport.protocol;
    const socket = new Socket(id, this, transport, req, protocol);
    if (debug.enabled) debug("new session %s (Engine.IO revision %d, %s)", id, protocol, transport.name);
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

  /** @internal A new session id from `generateId`: a non-empty string no open session has. */
  resolveId(req: EngineRequest, done: (id: string | undefined, error?: unknown) => void): void {
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

  /** @internal The initial response of a session gets the cookie; every response passes `headers` listeners. */
  addHeaders(headers: OutgoingHttpHeaders, req: EngineRequest, id?: string): void {
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

  /** @internal */
  applyMiddlewares(req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void {
    runMiddlewares(this.middlewares, req, res, done);
  }

  private refuse(req: IncomingMessage, res: ServerResponse, code: ErrorCodeValue, context: ErrorContext): void {
    debug("refusing %s %s: %s", req.method, req.url, ErrorMessages[code]);
    this.emit("connection_error", { req, code, message: ErrorMessages[code], context } satisfies ConnectionError);
    if (res.headersSent) return;
    const body = refusalBody(code, context);
    res.writeHead(statusOf(code), { "Content-Type": JSON_CONTENT_TYPE, "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  // ---- lifecycle ----

  /**
   * Graceful close: refuses new sessions, closes each open one after writing what it has
   * buffered (a polling session with nothing buffered and no request waiting is dropped at
   * once), and resolves once all are closed; whatever is still open after `timeout` ms is
   * dropped.
   */
  shutdown(timeout = 2000): Promise<void> {
    return shutdown(this, timeout);
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
    attach(this, server, options);
  }
}
