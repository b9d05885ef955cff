import debugModule from "debug";
import { Socket } from "./socket";
import { BroadcastOperator, type MultiResponseBroadcast, type RemoteSocket } from "./broadcast-operator";
import type { Adapter } from "./adapter/in-memory-adapter";
import type { Room, Session, SocketId } from "./adapter/types";
import { SERVER_SIDE_RESERVED_EVENTS, refuseReserved, type ExtendedError } from "./socket-types";
import {
  StrictEventEmitter,
  type AllButLast,
  type DecorateAcknowledgements,
  type DecorateAcknowledgementsWithMultipleResponses,
  type DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  type DefaultEventsMap,
  type EventNames,
  type EventNamesWithAck,
  type EventNamesWithoutAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
  type RemoveAcknowledgements,
} from "./typed-events";
import type { Client } from "./client";
import type { Server } from "./server";

/* eslint-disable @typescript-eslint/no-explicit-any */

const debug = debugModule("volley:namespace");

export type { ExtendedError } from "./socket-types";

export interface NamespaceReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

export interface ServerReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> extends NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  new_namespace: (namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

type NamespaceMiddleware<L extends EventsMap, E extends EventsMap, S extends EventsMap, D> = (
  socket: Socket<L, E, S, D>,
  next: (err?: ExtendedError) => void,
) => void;

/**
 * A communication channel (`/`, `/admin`, ...) that multiplexes one connection. Holds
 * its connected sockets, its middlewares and its adapter.
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  readonly name: string;
  readonly sockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  adapter!: Adapter;
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** @internal */
  _fns: Array<NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = [];
  /** @internal Next acknowledgement id for packets emitted in this namespace. */
  _ids = 0;
  /**
   * @internal Sockets whose middlewares are running (socket.io's private map, read by tests
   * and tools). A socket without middlewares to run connects at once and never enters it.
   */
  readonly _preConnectSockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, name: string) {
    super();
    this.server = server;
    this.name = name;
    debug("new namespace %s", name);
    this._initAdapter();
  }

  /** @internal */
  _initAdapter(): void {
    const AdapterClass = this.server.adapter() as unknown as new (nsp: any) => Adapter;
    // Adapter factories from createAdapter() are plain functions returning an instance: `new` works on both.
    this.adapter = new AdapterClass(this);
    void this.adapter.init();
  }

  /** Runs `fn` for every socket before it connects; `next(err)` refuses it with CONNECT_ERROR. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this._fns.push(fn);
    return this;
  }

  private run(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, done: (err?: ExtendedError) => void): void {
    const fns = this._fns.slice();
    if (fns.length === 0) return done();
    let i = 0;
    let finished = false;
    const next = (err?: ExtendedError) => {
      if (finished) return;
      const fn = err ? undefined : fns[i++];
      if (!fn) {
        finished = true;
        return done(err);
      }
      try {
        fn(socket, next);
      } catch (error) {
        // Once done() ran, the exception came from the application (e.g. a connection
        // listener): let it propagate rather than refuse a socket that already connected.
        if (finished) throw error;
        finished = true;
        done(error as ExtendedError);
      }
    };
    next();
  }

  // ---- connecting ----

  /** @internal A client asked to join this namespace. */
  _add(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, any> | undefined,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): void {
    const recovery = this.server._opts.connectionStateRecovery;
    const pid = auth?.pid;
    const offset = auth?.offset;
    if (recovery && typeof pid === "string" && typeof offset === "string") {
      Promise.resolve()
        .then(() => this.adapter.restoreSession(pid, offset))
        .catch((err: unknown) => {
          debug("could not restore session %s: %s", pid, err);
          return null;
        })
        .then((session) => this.admit(client, auth, fn, session ?? undefined));
      return;
    }
    this.admit(client, auth, fn);
  }

  private admit(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, any> | undefined,
    fn: ((socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void) | undefined,
    session?: Session,
  ): void {
    if (client.conn.readyState !== "open") return;
    const socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, client, auth, session);
    const recovery = this.server._opts.connectionStateRecovery;
    // Without middlewares nothing can refuse the socket or let the connection close first.
    if (this._fns.length === 0 || (session && recovery && recovery.skipMiddlewares)) return this.doConnect(socket, fn);
    this._preConnectSockets.set(socket.id, socket);
    this.run(socket, (err) => {
      this._preConnectSockets.delete(socket.id);
      if (client.conn.readyState !== "open") {
        socket._cleanup();
        return;
      }
      if (err) {
        debug("a middleware of %s refused %s: %s", this.name, client.id, err.message);
        socket._cleanup();
        // Engine.IO revision 3 (socket.io-client v2) takes the error's data alone.
        if (client.conn.protocol === 3) socket._error(err.data || err.message);
        else socket._error({ message: err.message, data: err.data });
        return;
      }
      this.doConnect(socket, fn);
    });
  }

  private doConnect(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    fn: ((socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void) | undefined,
  ): void {
    this.sockets.set(socket.id, socket);
    socket._onconnect();
    if (fn) fn(socket);
    this.emitReserved("connect", socket);
    this.emitReserved("connection", socket);
  }

  /** @internal */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (!this.sockets.delete(socket.id)) this._preConnectSockets.delete(socket.id);
  }

  // ---- broadcasting ----

  private operator(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return new BroadcastOperator(this.adapter);
  }

  to(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().to(room);
  }

  in(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().in(room);
  }

  except(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().except(room);
  }

  /** Emits to every socket of the namespace. */
  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return (this.operator() as unknown as BroadcastOperator<EmitEvents, SocketData>).emit(ev, ...args);
  }

  send(...args: EventParams<EmitEvents, "message">): this {
    (this.operator() as unknown as BroadcastOperator<EmitEvents, SocketData>).emit("message", ...args);
    return this;
  }

  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** Emits to the other servers of the cluster (their namespace of the same name). */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, Ev>
  ): boolean {
    refuseReserved(SERVER_SIDE_RESERVED_EVENTS, ev);
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    return new Promise((resolve, reject) => {
      const done = (err: (Error & { responses?: any[] }) | null, responses: any[]) => {
        if (!err) return resolve(responses);
        // As the official server: what did arrive before the timeout rides on the error.
        err.responses = responses;
        reject(err);
      };
      this.serverSideEmit(ev, ...([...args, done] as any));
    });
  }

  /** @internal Called by adapters with an event from another server. */
  _onServerSideEmit(args: [string, ...any[]]): void {
    this.emitUntyped(...args);
  }

  /** @deprecated use `fetchSockets()` */
  allSockets(): Promise<Set<SocketId>> {
    return this.operator().allSockets();
  }

  compress(compress: boolean): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().compress(compress);
  }

  get volatile(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().volatile;
  }

  get local(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.operator().local;
  }

  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>, SocketData> {
    return this.operator().timeout(timeout);
  }

  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.operator().fetchSockets() as unknown as Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  }

  socketsJoin(room: Room | Room[]): void {
    this.operator().socketsJoin(room);
  }

  socketsLeave(room: Room | Room[]): void {
    this.operator().socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.operator().disconnectSockets(close);
  }
}
