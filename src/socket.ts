import type { IncomingMessage } from "node:http";
import debugModule from "debug";
import type { EngineRequest, Socket as EngineSocket } from "./engine/index";
import { BroadcastOperator, type MultiResponseBroadcast } from "./broadcast-operator";
import type { Adapter } from "./adapter/in-memory-adapter";
import type { BroadcastFlags, PrivateSessionId, Room, Session, SocketId } from "./adapter/types";
import { RECOVERABLE_REASONS, type DisconnectReason } from "./disconnect-reason";
import { RESERVED_EVENTS, refuseReserved, type Handshake, type SocketReservedEventsMap } from "./socket-types";
import {
  StrictEventEmitter,
  type AllButLast,
  type DecorateAcknowledgements,
  type DefaultEventsMap,
  type EventNames,
  type EventNamesWithAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
} from "./typed-events";
import type { Client } from "./client";
import type { WriteOptions } from "./adapter/types";
import type { Namespace } from "./namespace";
import { compactListeners } from "./internal/listener-table";
import { generateSessionId } from "./internal/session-id";
import { PacketType } from "./parser/packet";

/* eslint-disable @typescript-eslint/no-explicit-any */

const debug = debugModule("volley:socket");

const NO_FLAGS: EmitFlags = Object.freeze({});

/** Write options of a plain packet, shared (frozen: the client caches nothing on it). */
const PLAIN_WRITE: WriteOptions = Object.freeze({ compress: true, volatile: undefined });

/** `socket.data` before anything read or set it: the object is made on first use. */
const UNSET: unique symbol = Symbol("volley:unset");

/** An incoming event as middlewares see it: name first, then the arguments. */
export type Event = [string, ...any[]];

type AnyListener = (...args: any[]) => void;
type Ack = (...args: any[]) => void;

/** A decoded Socket.IO packet addressed to this socket. */
export interface SocketPacket {
  type: number;
  nsp: string;
  data?: any;
  id?: number;
}

interface EmitFlags extends BroadcastFlags {
  timeout?: number;
}

/**
 * One client's presence in one namespace. Emits the application's events, answers and
 * collects acknowledgements, and owns the socket's rooms through the adapter.
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<ListenEvents, EmitEvents, SocketReservedEventsMap> {
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly id: SocketId;
  /** Whether this socket came back with its previous id, rooms, data and missed packets. */
  readonly recovered: boolean = false;
  connected = false;
  /** Pending acknowledgements of packets this socket emitted, by packet id. */
  private _acks: Map<number, Ack> | undefined;

  private readonly pid: PrivateSessionId | undefined;
  private readonly adapter: Adapter;
  /** The CONNECT packet's payload; none from most clients (`handshake.auth` is then `{}`). */
  private readonly auth: Record<string, any> | undefined;
  /** The handshake once built (on first read); until then, when the socket was created. */
  private handshakeOrCreatedAt: Handshake | number = Date.now();
  /** `data`, made on first use: most applications never touch it. */
  private dataValue: SocketData | typeof UNSET = UNSET;
  /** State most sockets never have (middlewares, catch-all listeners...), made on first use. */
  private extras: SocketExtras | undefined;
  /** Flags for the next emit; a shared empty object until one is set (most sockets never do). */
  private flags: EmitFlags = NO_FLAGS;
  /** Set by `_cleanup()`: the socket is out of its namespace and joins no more rooms. */
  private leftNamespace = false;

  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, any> | undefined,
    previousSession?: Session,
  ) {
    super();
    compactListeners(this);
    this.nsp = nsp;
    this.client = client;
    this.adapter = nsp.adapter;
    this.auth = auth;
    if (previousSession) {
      this.id = previousSession.sid;
      this.pid = previousSession.pid;
      void this.adapter.addAll(this.id, new Set(previousSession.rooms));
      this.dataValue = previousSession.data as SocketData;
      if (previousSession.missedPackets) this.ensureExtras().missedPackets = previousSession.missedPackets;
      this.recovered = true;
    } else {
      if (client.conn.protocol === 3) {
        // Engine.IO revision 3 (socket.io-client v2) knows its socket by the engine id, prefixed outside "/".
        this.id = nsp.name !== "/" ? nsp.name + "#" + client.id : client.id;
      } else {
        // Never the engine id: that one lets whoever knows it hijack the session.
        this.id = generateSessionId();
      }
      if (nsp.server._opts.connectionStateRecovery) this.pid = generateSessionId();
    }
  }

  /**
   * The server. A getter, not a field: one less per socket. Also how `fetchSockets()`
   * (here and in cluster adapters) tells local Socket objects from remote ones.
   */
  private get server(): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>["server"] {
    return this.nsp.server;
  }

  /** What the socket learned when it connected; built on first read. */
  get handshake(): Handshake {
    const hs = this.handshakeOrCreatedAt;
    if (typeof hs !== "number") return hs;
    const req = this.request as EngineRequest | undefined;
    return (this.handshakeOrCreatedAt = {
      headers: req?.headers ?? {},
      time: timeString(hs),
      address: this.conn.remoteAddress,
      xdomain: !!req?.headers.origin,
      // Engines not on Node's http (bun-engine) give a request with `connection` alone.
      secure: !req || !!((req.socket ?? req.connection) as { encrypted?: boolean } | undefined)?.encrypted,
      issued: hs,
      url: req?.url ?? "",
      query: req?._query ?? {},
      auth: this.auth ?? {},
    });
  }

  set handshake(value: Handshake) {
    this.handshakeOrCreatedAt = value;
  }

  /** Arbitrary data of the application, shared with the other servers of a cluster. */
  get data(): SocketData {
    const data = this.dataValue;
    return data !== UNSET ? data : (this.dataValue = {} as SocketData);
  }

  set data(value: SocketData) {
    this.dataValue = value;
  }

  /** Pending acknowledgements of packets this socket emitted, by packet id (made on first use). */
  get acks(): Map<number, Ack> {
    return (this._acks ??= new Map());
  }

  set acks(value: Map<number, Ack>) {
    this._acks = value;
  }

  // ---- emitting ----

  /** Emits an event to this client; a trailing function is called with the client's answer. */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    refuseReserved(RESERVED_EVENTS, ev);
    const data: any[] = [ev, ...args];
    const packet: SocketPacket = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    if (typeof data[data.length - 1] === "function") {
      const id = this.nsp._ids++;
      this.registerAck(id, data.pop());
      packet.id = id;
    }
    const flags = this.flags;
    this.flags = NO_FLAGS;
    if (this.server._opts.connectionStateRecovery) {
      // Through the adapter, so that the packet gets an offset and is kept for recovery.
      this.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
    } else {
      this.notifyOutgoingListeners(packet);
      this.packet(packet, flags);
    }
    return true;
  }

  /** `emit` with an acknowledgement, as a Promise of the client's answer. */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    const withTimeout = this.flags.timeout !== undefined;
    return new Promise((resolve, reject) => {
      (args as unknown[]).push(
        withTimeout
          ? (err: Error | null, arg: any) => (err ? reject(err) : resolve(arg))
          : (arg: any) => resolve(arg),
      );
      this.emit(ev, ...(args as unknown as EventParams<EmitEvents, Ev>));
    });
  }

  private registerAck(id: number, ack: Ack): void {
    const timeout = this.flags.timeout;
    if (timeout === undefined) this.acks.set(id, ack);
    else this.registerAckWithTimeout(id, ack, timeout);
  }

  /** Apart from registerAck(): its closures would allocate a context for every ack, timed or not. */
  private registerAckWithTimeout(id: number, ack: Ack, timeout: number): void {
    const timer = setTimeout(() => {
      this.acks.delete(id);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    this.acks.set(id, (...args: any[]) => {
      clearTimeout(timer);
      ack.call(this, null, ...args);
    });
  }

  /** @internal Drops a pending acknowledgement (a broadcast's timeout passed). */
  _forgetAck(id: number): void {
    this._acks?.delete(id);
  }

  /** Sends a `message` event. */
  send(...args: EventParams<EmitEvents, "message">): this {
    this.emit("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    this.emit("message", ...args);
    return this;
  }

  /** @internal */
  packet(packet: SocketPacket, opts: { compress?: boolean; volatile?: boolean } = {}): void {
    packet.nsp = this.nsp.name;
    this.client._packet(
      packet,
      opts.compress !== false && !opts.volatile ? PLAIN_WRITE : { compress: opts.compress !== false, volatile: opts.volatile },
    );
  }

  // ---- broadcasting from this socket (to everyone else) ----

  to(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.newBroadcastOperator().to(room);
  }

  in(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.newBroadcastOperator().in(room);
  }

  except(room: Room | Room[]): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.newBroadcastOperator().except(room);
  }

  get broadcast(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.newBroadcastOperator();
  }

  get local(): MultiResponseBroadcast<EmitEvents, SocketData> {
    return this.newBroadcastOperator().local;
  }

  private newBroadcastOperator(): MultiResponseBroadcast<EmitEvents, SocketData> {
    const flags = { ...this.flags };
    this.flags = NO_FLAGS;
    return new BroadcastOperator(this.adapter, new Set<Room>(), new Set<Room>([this.id]), flags);
  }

  // ---- flags for the next emit ----

  compress(compress: boolean): this {
    this.flags = { ...this.flags, compress };
    return this;
  }

  /** The next packet may be dropped if the client cannot take it right now. */
  get volatile(): this {
    this.flags = { ...this.flags, volatile: true };
    return this;
  }

  /** The next emit's acknowledgement gets `timeout` ms, then an error. */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    this.flags = { ...this.flags, timeout };
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData>;
  }

  // ---- rooms ----

  join(rooms: Room | Room[]): Promise<void> | void {
    // A socket that has left (e.g. joining after an await, once the client is gone)
    // must not leave its id in the adapter's rooms for ever.
    if (this.leftNamespace) return;
    return this.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  leave(room: Room): Promise<void> | void {
    return this.adapter.del(this.id, room);
  }

  /** Leaves every room, its own included (socket.io's private `leaveAll()`, which tools call). */
  leaveAll(): void {
    this.adapter.delAll(this.id);
  }

  get rooms(): Set<Room> {
    return this.adapter.socketRooms(this.id) ?? new Set();
  }

  // ---- lifecycle (called by the namespace and the client) ----

  /** @internal */
  _onconnect(): void {
    if (debug.enabled) debug("%s connected to %s%s", this.id, this.nsp.name, this.recovered ? " (recovered)" : "");
    this.connected = true;
    void this.join(this.id);
    // The missed packets go before the CONNECT reply, in socket.io's order (its client keeps
    // events received before CONNECT and emits them once connected).
    const missed = this.extras?.missedPackets;
    if (missed) {
      this.extras!.missedPackets = undefined;
      for (const data of missed) this.packet({ type: PacketType.EVENT, nsp: this.nsp.name, data });
    }
    if (this.conn.protocol === 3) this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name });
    else this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data: { sid: this.id, pid: this.pid } });
  }

  /** @internal */
  _onpacket(packet: SocketPacket): void {
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.onack(packet);
        break;
      case PacketType.DISCONNECT:
        this._onclose("client namespace disconnect");
        break;
    }
  }

  private onevent(packet: SocketPacket): void {
    const args: any[] = packet.data ?? [];
    if (packet.id != null) args.push(this.ack(packet.id));
    const any = this.extras?.anyListeners;
    if (any && any.length > 0) for (const listener of any.slice()) listener.apply(this, args);
    this.dispatch(args as Event);
  }

  /** The function handed to the application to answer the client's acknowledgement, once. */
  private ack(id: number): Ack {
    let sent = false;
    return (...args: any[]) => {
      if (sent) return;
      sent = true;
      this.packet({ id, type: PacketType.ACK, nsp: this.nsp.name, data: args });
    };
  }

  private onack(packet: SocketPacket): void {
    const ack = packet.id === undefined ? undefined : this._acks?.get(packet.id);
    if (typeof ack !== "function") return;
    this.acks.delete(packet.id!);
    ack.apply(this, Array.isArray(packet.data) ? packet.data : []);
  }

  private dispatch(event: Event): void {
    const fns = this.extras?.fns;
    if (!fns || fns.length === 0) return this.deliver(event);
    this.runThenDeliver(event);
  }

  /** Apart from dispatch(): its closure would make V8 allocate `event` in a context on every event. */
  private runThenDeliver(event: Event): void {
    this.run(event, (err) => {
      if (err) return process.nextTick(onMiddlewareError, this, err);
      this.deliver(event);
    });
  }

  /**
   * Listeners get the event on the next tick, as with socket.io: a DISCONNECT received in
   * the same payload (or the same read) comes first, and the event is then ignored. The
   * client queues the events of one turn behind a single tick.
   */
  private deliver(event: Event): void {
    this.client._deferEvent(this, event);
  }

  /** @internal The deferred delivery of an event (see deliver()). */
  _deliverNow(event: Event): void {
    if (!this.connected) return;
    // A client can name its event "error": without a listener, EventEmitter would throw.
    if (event[0] === "error" && this.listenerCount("error") === 0) return;
    this.emitUntyped(...event);
  }

  /** @internal A client-level error (e.g. a parse error) or a socket middleware error. */
  _onerror(err: Error): void {
    if (this.listenerCount("error") > 0) this.emitReserved("error", err);
    else debug("error on socket %s: %s", this.id, err.message);
  }

  /** @internal Closes this socket on the server side; the client is not told. */
  _onclose(reason: DisconnectReason, description?: any): this | undefined {
    if (!this.connected) return this;
    if (debug.enabled) debug("%s disconnected from %s: %s", this.id, this.nsp.name, reason);
    this.emitReserved("disconnecting", reason, description);
    if (this.pid !== undefined && this.server._opts.connectionStateRecovery && RECOVERABLE_REASONS.has(reason)) {
      this.adapter.persistSession({ sid: this.id, pid: this.pid, rooms: [...this.rooms], data: this.data });
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    this.emitReserved("disconnect", reason, description);
    return undefined;
  }

  /** @internal */
  _cleanup(): void {
    this.leftNamespace = true;
    this.adapter.delAll(this.id);
    this.nsp._remove(this);
    // Acknowledgements without a timeout can never be answered now: release them.
    this._acks?.clear();
  }

  /** @internal Refuses the connection (middleware error or invalid namespace). */
  _error(err: unknown): void {
    this.packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data: err });
  }

  /**
   * Disconnects from this namespace (the client is told). With `close`, the whole
   * connection is closed, which disconnects every namespace of the client.
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else {
      this.packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  // ---- middleware ----

  /** Runs `fn` for every incoming event before listeners; `next(err)` stops it and emits `error`. */
  use(fn: (event: Event, next: (err?: Error) => void) => void): this {
    (this.ensureExtras().fns ??= []).push(fn);
    return this;
  }

  private run(event: Event, done: (err?: Error) => void): void {
    const fns = (this.extras?.fns ?? []).slice();
    let i = 0;
    const next = (err?: Error) => {
      if (err) return done(err);
      const fn = fns[i++];
      if (!fn) return done();
      fn(event, next);
    };
    next();
  }

  // ---- accessors ----

  get disconnected(): boolean {
    return !this.connected;
  }

  /** The HTTP request that opened the connection. */
  get request(): IncomingMessage {
    return this.client.request;
  }

  /** The Engine.IO connection under this socket. */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  // ---- catch-all listeners ----

  onAny(listener: AnyListener): this {
    (this.ensureExtras().anyListeners ??= []).push(listener);
    return this;
  }

  prependAny(listener: AnyListener): this {
    (this.ensureExtras().anyListeners ??= []).unshift(listener);
    return this;
  }

  offAny(listener?: AnyListener): this {
    const extras = this.extras;
    if (extras) extras.anyListeners = removeListener(extras.anyListeners, listener);
    return this;
  }

  listenersAny(): AnyListener[] {
    return this.extras?.anyListeners ?? [];
  }

  onAnyOutgoing(listener: AnyListener): this {
    (this.ensureExtras().anyOutgoingListeners ??= []).push(listener);
    return this;
  }

  prependAnyOutgoing(listener: AnyListener): this {
    (this.ensureExtras().anyOutgoingListeners ??= []).unshift(listener);
    return this;
  }

  offAnyOutgoing(listener?: AnyListener): this {
    const extras = this.extras;
    if (extras) extras.anyOutgoingListeners = removeListener(extras.anyOutgoingListeners, listener);
    return this;
  }

  listenersAnyOutgoing(): AnyListener[] {
    return this.extras?.anyOutgoingListeners ?? [];
  }

  private ensureExtras(): SocketExtras {
    return (this.extras ??= new SocketExtras());
  }

  /** @internal Called for each outgoing event, also by adapters when they broadcast. */
  notifyOutgoingListeners(packet: { data?: any }): void {
    const listeners = this.extras?.anyOutgoingListeners;
    if (!listeners || listeners.length === 0) return;
    for (const listener of listeners.slice()) listener.apply(this, packet.data);
  }
}

/** A socket middleware's error, a tick later as the events it stops would have been. */
function onMiddlewareError(socket: Socket, err: Error): void {
  socket._onerror(err);
}

/** What few sockets carry: kept apart so that every socket is smaller. */
class SocketExtras {
  fns: Array<(event: Event, next: (err?: Error) => void) => void> | undefined = undefined;
  anyListeners: AnyListener[] | undefined = undefined;
  anyOutgoingListeners: AnyListener[] | undefined = undefined;
  /** Packets a recovered socket missed, sent once it is connected. */
  missedPackets: unknown[][] | undefined = undefined;
}

function removeListener(list: AnyListener[] | undefined, listener?: AnyListener): AnyListener[] | undefined {
  if (!list || !listener) return undefined;
  const i = list.indexOf(listener);
  if (i !== -1) list.splice(i, 1);
  return list;
}

/**
 * Time strings by second: `Date#toString` is costly and has a one-second resolution, so the
 * sockets created within the same second share one string.
 */
let timeSecond = NaN;
let timeText = "";

function timeString(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== timeSecond) {
    timeText = new Date(ms).toString();
    timeSecond = second;
  }
  return timeText;
}
