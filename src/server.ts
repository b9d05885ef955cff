import { createServer, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Http2SecureServer, Http2Server } from "node:http2";
import debugModule from "debug";
import {
  Server as Engine,
  corsMiddleware,
  type AttachOptions,
  type ServerOptions as EngineOptions,
  type Socket as EngineSocket,
} from "./engine/index";
import * as defaultParser from "./parser/index";
import { Adapter } from "./adapter/in-memory-adapter";
import { SessionAwareAdapter } from "./adapter/session-aware-adapter";
import type { AdapterInterface, Room, SocketId } from "./adapter/types";
import { Client, type PacketDecoder, type PacketEncoder } from "./client";
import { closeEngine, type ForeignEngine, type ForeignEngineSocket } from "./foreign-engine";
import { Namespace, type ServerReservedEventsMap } from "./namespace";
import { ParentNamespace } from "./parent-namespace";
import type { Socket } from "./socket";
import type { BroadcastOperator, MultiResponseBroadcast, RemoteSocket } from "./broadcast-operator";
import type { ExtendedError } from "./socket-types";
import { ClientFiles } from "./serve-client";
import { prependRequestHandler } from "./internal/request-listener";
import {
  StrictEventEmitter,
  type AllButLast,
  type DecorateAcknowledgements,
  type DecorateAcknowledgementsWithMultipleResponses,
  type DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  type DefaultEventsMap,
  type EventNames,
  type EventNamesWithAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
  type RemoveAcknowledgements,
} from "./typed-events";

/* eslint-disable @typescript-eslint/no-explicit-any */

const debug = debugModule("volley:server");

type ParentNspNameMatchFn = (name: string, auth: { [key: string]: any }, fn: (err: Error | null, success: boolean) => void) => void;

/** An adapter class, or a factory as `createAdapter()` of the npm adapters returns. */
export type AdapterConstructor = (new (nsp: any) => AdapterInterface) | ((nsp: any) => AdapterInterface);

type TServerInstance = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

/** A parser as the `parser` option takes it: socket.io-parser's shape (e.g. socket.io-msgpack-parser). */
export interface Parser {
  Encoder: new () => PacketEncoder;
  Decoder: new () => PacketDecoder;
}

export interface ServerOptions extends EngineOptions, AttachOptions {
  /** @default "/socket.io" */
  path: string;
  /** Serve the client bundle under `path`. @default true */
  serveClient: boolean;
  /** @default the in-memory adapter */
  adapter: AdapterConstructor;
  /** @default volley-io/parser (socket.io-parser compatible) */
  parser: any;
  /** ms a client has to join a namespace. @default 45000 */
  connectTimeout: number;
  connectionStateRecovery: {
    /** @default 120000 */
    maxDisconnectionDuration?: number;
    /** @default true */
    skipMiddlewares?: boolean;
  };
  /** Remove a child namespace (from a parent namespace) once its last socket leaves. @default false */
  cleanupEmptyChildNamespaces: boolean;
}

/**
 * The Socket.IO server. Attach it to an HTTP server (or a port), listen for
 * `connection`, and emit to everyone, to rooms or to single sockets.
 *
 * Typed with four maps: events the server listens to, events it emits, events servers
 * exchange, and the type of `socket.data`.
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  ServerReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  /** The main namespace, `/`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server. */
  engine!: Engine;
  httpServer!: TServerInstance;
  /** @internal */
  readonly _parser: Parser;
  readonly encoder: PacketEncoder;
  /** @internal */
  _nsps: Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  private readonly parentNsps = new Map<ParentNspNameMatchFn, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private readonly parentNamespacesFromRegExp = new Map<RegExp, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private _adapter?: AdapterConstructor;
  private _serveClient = true;
  readonly opts: Partial<ServerOptions>;
  private _path = "/socket.io";
  /** @internal */
  _connectTimeout = 45000;
  private clientFiles: ClientFiles | undefined;

  constructor(opts?: Partial<ServerOptions>);
  constructor(srv?: TServerInstance | number, opts?: Partial<ServerOptions>);
  constructor(srv: undefined | Partial<ServerOptions> | TServerInstance | number, opts?: Partial<ServerOptions>);
  constructor(srv?: undefined | Partial<ServerOptions> | TServerInstance | number, opts: Partial<ServerOptions> = {}) {
    super();
    if (typeof srv === "object" && srv !== null && typeof (srv as { listen?: unknown }).listen !== "function") {
      opts = srv as Partial<ServerOptions>;
      srv = undefined;
    }
    this.path(opts.path ?? "/socket.io");
    this.connectTimeout(opts.connectTimeout ?? 45000);
    this.serveClient(opts.serveClient !== false);
    this._parser = (opts.parser as Parser | undefined) ?? (defaultParser as unknown as Parser);
    this.encoder = new this._parser.Encoder();
    this.opts = opts;
    if (opts.connectionStateRecovery) {
      opts.connectionStateRecovery = {
        maxDisconnectionDuration: 2 * 60 * 1000,
        skipMiddlewares: true,
        ...opts.connectionStateRecovery,
      };
      this.adapter(opts.adapter ?? SessionAwareAdapter);
    } else {
      this.adapter(opts.adapter ?? Adapter);
    }
    opts.cleanupEmptyChildNamespaces = !!opts.cleanupEmptyChildNamespaces;
    this.sockets = this.of("/");
    if (srv !== undefined && srv !== null) this.attach(srv as TServerInstance | number);
  }

  /**
   * @internal The engine under its official private name (`io.eio.opts`, read by tests and
   * tools written for socket.io).
   */
  get eio(): Engine {
    return this.engine;
  }

  set eio(engine: Engine) {
    this.engine = engine;
  }

  /** @internal The options, as adapters read them (`connectionStateRecovery`, ...). */
  get _opts(): Partial<ServerOptions> {
    return this.opts;
  }

  // ---- settings ----

  serveClient(v: boolean): this;
  serveClient(): boolean;
  serveClient(v?: boolean): this | boolean;
  serveClient(v?: boolean): this | boolean {
    if (v === undefined) return this._serveClient;
    this._serveClient = v;
    return this;
  }

  path(v: string): this;
  path(): string;
  path(v?: string): this | string;
  path(v?: string): this | string {
    if (v === undefined) return this._path;
    this._path = v.replace(/\/$/, "");
    return this;
  }

  connectTimeout(v: number): this;
  connectTimeout(): number;
  connectTimeout(v?: number): this | number;
  connectTimeout(v?: number): this | number {
    if (v === undefined) return this._connectTimeout;
    this._connectTimeout = v;
    return this;
  }

  adapter(): AdapterConstructor | undefined;
  adapter(v: AdapterConstructor): this;
  adapter(v?: AdapterConstructor): AdapterConstructor | undefined | this {
    if (v === undefined) return this._adapter;
    this._adapter = v;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  // ---- attaching ----

  /** Attaches to an HTTP(S/2) server, or creates one listening on `srv` if it is a port. */
  listen(srv: TServerInstance | number, opts: Partial<ServerOptions> = {}): this {
    return this.attach(srv, opts);
  }

  attach(srv: TServerInstance | number, opts: Partial<ServerOptions> = {}): this {
    if (typeof srv === "function") {
      throw new Error("You are trying to attach volley-io to an express request handler function. Please pass a http.Server instance.");
    }
    let server: TServerInstance;
    if (typeof srv === "number" || (typeof srv === "string" && Number(srv) == (srv as unknown as number))) {
      server = createServer((_req, res) => {
        res.writeHead(404);
        res.end();
      });
      server.listen(Number(srv));
    } else {
      server = srv;
    }
    // As the official server: the constructor's options win, and `attach(srv, { path })`
    // is honoured when the constructor was given no path.
    const options: Partial<ServerOptions> = { ...opts, ...this.opts };
    options.path = options.path || this._path;
    this.initEngine(server, options);
    return this;
  }

  private initEngine(srv: TServerInstance, opts: Partial<ServerOptions>): void {
    const engine = new Engine(opts);
    engine.attach(srv as HttpServer, opts);
    if (this._serveClient) this.attachServe(srv);
    this.httpServer = srv;
    this.bind(engine);
  }

  /** Serves `{path}/socket.io(.min|.esm.min|.msgpack.min).js(.map)` before anything else. */
  private attachServe(srv: TServerInstance): void {
    const files = (this.clientFiles ??= new ClientFiles(this._path));
    const cors = this.opts.cors ? corsMiddleware(this.opts.cors) : undefined;
    prependRequestHandler(srv, (req, res) => {
      if (!files.matches(req.url)) return false;
      if (cors) cors(req, res, () => files.serve(req, res));
      else files.serve(req, res);
      return true;
    });
  }

  /**
   * Uses `engine` for the connections: Volley's Engine.IO server, or another with the
   * public surface of the official `engine.io` one (see foreign-engine.ts).
   */
  bind(engine: Engine | ForeignEngine): this {
    // Typed as Volley's: the members the layer reads exist on both.
    this.engine = engine as Engine;
    engine.on("connection", (conn: EngineSocket | ForeignEngineSocket) => this.onconnection(conn));
    return this;
  }

  private onconnection(conn: EngineSocket | ForeignEngineSocket): void {
    if (debug.enabled) debug("incoming connection %s", conn.id);
    const client = new Client(this, conn);
    // Engine.IO revision 3 (socket.io-client v2) clients are in "/" without asking.
    if (conn.protocol === 3) client.connect("/");
  }

  // ---- namespaces ----

  /**
   * The namespace `name`, created on first use; a RegExp or a function makes a parent
   * namespace whose children are created when a client asks for a matching name.
   */
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this);
      if (typeof name === "function") {
        this.parentNsps.set(name, parent);
      } else {
        const regex = name;
        this.parentNsps.set((nsp, _auth, next) => next(null, regex.test(nsp)), parent);
        this.parentNamespacesFromRegExp.set(regex, parent);
      }
      if (fn) parent.on("connect", fn);
      return parent;
    }
    if (String(name)[0] !== "/") name = "/" + name;
    let nsp = this._nsps.get(name);
    if (!nsp) {
      for (const [regex, parent] of this.parentNamespacesFromRegExp) {
        regex.lastIndex = 0;
        if (regex.test(name)) {
          nsp = parent.createChild(name);
          if (fn) nsp.on("connect", fn);
          return nsp;
        }
      }
      nsp = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, name);
      this._nsps.set(name, nsp);
      if (name !== "/") this._emitNewNamespace(nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  /** @internal */
  _emitNewNamespace(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    // `io.on(...)` listens on the main namespace, which may not exist yet while "/" is being built.
    const main = this.sockets as unknown as { emitReserved(ev: string, ...args: unknown[]): boolean } | undefined;
    main?.emitReserved("new_namespace", nsp);
  }

  /** @internal Asks each parent namespace whether it accepts `name`. */
  _checkNamespace(
    name: string,
    auth: { [key: string]: any },
    fn: (nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | false) => void,
  ): void {
    if (this.parentNsps.size === 0) return fn(false);
    const entries = this.parentNsps.entries();
    const tryNext = (): void => {
      const next = entries.next();
      if (next.done) return fn(false);
      const [match, parent] = next.value;
      match(name, auth, (err, allow) => {
        if (err || !allow) return tryNext();
        const existing = this._nsps.get(name);
        if (existing) return fn(existing);
        fn(parent.createChild(name));
      });
    };
    tryNext();
  }

  // ---- the main namespace's API, on the server ----

  use(fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, next: (err?: ExtendedError) => void) => void): this {
    this.sockets.use(fn);
    return this;
  }

  to(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  in(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.in(room);
  }

  except(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.except(room);
  }

  send(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.send(...args);
    return this;
  }

  write(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.write(...args);
    return this;
  }

  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, Ev>
  ): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /** @deprecated use `fetchSockets()` */
  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  compress(compress: boolean): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.compress(compress);
  }

  get volatile(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.volatile;
  }

  get local(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.sockets.local;
  }

  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>, SocketData> {
    return this.sockets.timeout(timeout);
  }

  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }

  // ---- closing ----

  /**
   * Graceful close: disconnects every socket ("server shutting down"), closes the
   * adapters, then the engine (new sessions refused, buffered packets written, each
   * connection closed so that clients reconnect elsewhere) and the HTTP server, if any.
   * `fn` and the Promise settle when all of it is closed.
   */
  async close(fn?: (err?: Error) => void): Promise<void> {
    await Promise.allSettled(
      [...this._nsps.values()].map(async (nsp) => {
        for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
        await nsp.adapter.close?.();
      }),
    );
    await closeEngine(this.engine);
    const http = this.httpServer as HttpServer | undefined;
    if (!http) {
      fn?.();
      return;
    }
    await new Promise<void>((resolve) => {
      // http.close() waits for keep-alive connections; a client that keeps retrying its
      // handshake would keep one busy for ever. Idle ones are closed until the server is.
      const sweeper = setInterval(() => http.closeIdleConnections?.(), 200);
      http.close((err?: Error) => {
        clearInterval(sweeper);
        fn?.(err);
        resolve();
      });
      http.closeIdleConnections?.();
    });
  }
}

// `io.on("connection")` and the other EventEmitter methods act on the main namespace,
// as on the official server (the server itself emits nothing of its own).
const delegated = ["on", "once", "off", "addListener", "prependListener", "prependOnceListener", "removeListener", "removeAllListeners", "listeners", "rawListeners", "listenerCount", "eventNames", "setMaxListeners", "getMaxListeners"] as const;
for (const method of delegated) {
  (Server.prototype as any)[method] = function (this: Server, ...args: unknown[]) {
    return (this.sockets as any)[method](...args);
  };
}
(Server.prototype as any).emit = function (this: Server, ...args: unknown[]) {
  return (this.sockets as any).emit(...args);
};
