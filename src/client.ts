import type { IncomingMessage } from "node:http";
import debugModule from "debug";
import { messagePacket, type RawData, type SessionSink, type Socket as EngineSocket } from "./engine/index";
import type { WriteOptions } from "./adapter/types";
import { enginePacketsFor, type EncodedPackets } from "./adapter/prepared-broadcast";
import type { Event, Socket, SocketPacket } from "./socket";
import type { Server } from "./server";
import type { EventsMap } from "./typed-events";
import type { DisconnectReason } from "./disconnect-reason";
import * as defaultParser from "./parser/index";
import { PacketType } from "./parser/packet";
import { DEFAULT_MAX_ATTACHMENTS, PendingPacket, decodeMessage } from "./parser/decoder";
import { deadlinesFor, type DeadlineEntry, type DeadlineQueue } from "./internal/deadlines";
import { outletFor, type ForeignEngineSocket, type PacketOutlet } from "./foreign-engine";
import { hasJoined, joinedIn, joinedList, withJoined, withNoneJoined, withoutJoined, withoutJoinedIds, type JoinedSockets } from "./joined-sockets";

/* eslint-disable @typescript-eslint/no-explicit-any */

const debug = debugModule("volley:client");

/** What the server needs of a parser's decoder (socket.io-parser's shape, msgpack's too). */
export interface PacketDecoder {
  add(chunk: any): void;
  on(event: "decoded", listener: (packet: any) => void): unknown;
  off?(event: "decoded", listener: (packet: any) => void): unknown;
  removeListener?(event: "decoded", listener: (packet: any) => void): unknown;
  destroy(): void;
}

export interface PacketEncoder {
  encode(packet: any): Array<string | Buffer | ArrayBuffer | ArrayBufferView>;
}

/**
 * One Engine.IO connection as the Socket.IO layer sees it: decodes its packets, routes
 * them to the namespace sockets it has joined, and writes encoded packets to it.
 */
export class Client<ListenEvents extends EventsMap, EmitEvents extends EventsMap, ServerSideEvents extends EventsMap, SocketData = any>
  implements SessionSink
{
  readonly conn: EngineSocket;
  /** The engine session id (never sent to other clients). */
  readonly id: string;
  private readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /**
   * A custom parser's decoder (one per client, as its API wants). With the default parser,
   * text packets decode statelessly and this holds only a binary packet awaiting its
   * attachments, if any: most clients never carry a decoder object.
   */
  private decoder: DecoderState;
  /** The sockets of the namespaces joined (see joined-sockets.ts: one slot, no object for one namespace). */
  private joined: JoinedSockets<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = undefined;
  /** Events received this turn, as socket/event pairs, delivered on the next tick. */
  private deferred: Array<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | Event> | undefined;
  /** Until a namespace is joined: the `connectTimeout` deadline. */
  private connectDeadline: ConnectDeadline | undefined;
  /**
   * Binary bytes received since the last text message or packet a custom decoder completed:
   * a binary packet being reassembled (with a parser such as msgpack's, each binary message
   * is a whole packet).
   */
  private pendingBinaryBytes = 0;
  /** Where packets are written: `conn` itself, or glue over another Engine.IO server's socket. */
  private readonly outlet: PacketOutlet;

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, conn: EngineSocket | ForeignEngineSocket) {
    this.server = server;
    // Another engine's socket has the public surface of Volley's that the layer reads.
    this.conn = conn as EngineSocket;
    this.outlet = outletFor(conn);
    this.id = conn.id;
    if (server._parser !== (defaultParser as unknown)) {
      const decoder = new server._parser.Decoder();
      (decoder as Tagged)[kClient] = this;
      decoder.on("decoded", onDecoded);
      this.decoder = decoder;
    }
    this.outlet.sink = this;
    // A shared deadline list rather than a timer and a closure per connection.
    this.connectDeadline = new ConnectDeadline(this);
    deadlinesFor(server._connectTimeout).add(this.connectDeadline);
  }

  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** @internal Connects this client to namespace `name`, or refuses it. */
  connect(name: string, auth?: Record<string, any>): void {
    if (this.server._nsps.has(name)) return this.doConnect(name, auth);
    // Parent namespaces see the object that becomes `handshake.auth`.
    const given = auth ?? {};
    this.server._checkNamespace(name, given, (dynamicNsp) => {
      if (dynamicNsp) return this.doConnect(name, given);
      debug("invalid namespace %s", name);
      this._packet({
        type: PacketType.CONNECT_ERROR,
        nsp: name,
        // An object for every client: the official server sends the same to Engine.IO
        // revision 3 (socket.io-client v2) clients.
        data: { message: "Invalid namespace" },
      });
    });
  }

  private doConnect(name: string, auth: Record<string, any> | undefined): void {
    if (debug.enabled) debug("%s connecting to namespace %s", this.id, name);
    const nsp = this.server._nsps.get(name) ?? this.server.of(name);
    nsp._add(this, auth, (socket) => {
      this.added(socket);
      this.stopConnectDeadline();
    });
  }

  private stopConnectDeadline(): void {
    const deadline = this.connectDeadline;
    if (!deadline) return;
    this.connectDeadline = undefined;
    deadline.dlQueue?.remove(deadline);
  }

  /** @internal `connectTimeout` passed: close the connection unless a namespace was joined. */
  _onConnectDeadline(): void {
    this.connectDeadline = undefined;
    if (!hasJoined(this.joined)) {
      debug("no namespace joined yet, closing %s", this.id);
      this.close();
    }
  }

  private added(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.joined = withJoined(this.joined, socket);
  }

  /** @internal Disconnects every namespace, then the connection. */
  _disconnect(): void {
    // A copy: each disconnect removes its socket.
    for (const socket of [...joinedList(this.joined)]) socket.disconnect();
    // Only the sockets by id, as the official server: the names go when the client closes.
    this.joined = withoutJoinedIds(this.joined);
    this.close();
  }

  /** @internal */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.joined = withoutJoined(this.joined, socket);
  }

  private close(): void {
    if (this.conn.readyState === "open") {
      this.conn.close();
      this.onSessionClose("forced server close");
    }
  }

  /** @internal Encodes (unless `preEncoded`) and writes a packet. */
  _packet(packet: SocketPacket | Array<string | Buffer>, opts: WriteOptions = {}): void {
    if (this.conn.readyState !== "open") return;
    if (opts.preEncoded) return this.writeToEngine(packet as Array<string | Buffer>, opts);
    const out: unknown = this.server.encoder.encode(packet);
    // A custom encoder may return one packet alone, as the official server accepts.
    const encoded = (Array.isArray(out) ? out : [out]) as RawData[];
    if (this.dropsVolatile(opts)) return;
    // One recipient: its engine packets go straight to the connection, nothing is shared.
    const compress = opts.compress !== false;
    for (let i = 0; i < encoded.length; i++) this.outlet.sendPrepared(messagePacket(encoded[i], compress));
  }

  /**
   * Writes already-encoded packets (a list, or one alone as the official server accepts);
   * used by adapters when they broadcast. The engine packets are built once per broadcast
   * (by its PreparedBroadcast, see prepared-broadcast.ts) and the same objects are queued
   * for every recipient.
   */
  writeToEngine(encodedPackets: EncodedPackets, opts: WriteOptions): void {
    if (this.dropsVolatile(opts)) return;
    const packets = enginePacketsFor(encodedPackets, opts);
    for (let i = 0; i < packets.length; i++) this.outlet.sendPrepared(packets[i]);
  }

  /**
   * Volatile packets are dropped when the client cannot take them now: no poll waiting, a
   * WebSocket whose kernel buffer is full (a slow or stalled reader), or packets already
   * queued this turn. socket.io writes each packet at once, which leaves its transport
   * unwritable until that write completes; Volley flushes once per turn, so a queued packet
   * stands for that write in flight (and two volatile emits in a row send one, as there).
   */
  private dropsVolatile(opts: WriteOptions): boolean {
    if (!opts.volatile) return false;
    const conn = this.conn;
    return !conn.transport.writable || conn.bufferedPackets.length > 0 || conn.congested;
  }

  /**
   * @internal socket.io's private entry for one engine message, which tests and tools call
   * directly. Anything but text or binary can only come from code, not from the wire: as
   * with socket.io, the sockets get an `error` and the connection closes ("forced close").
   */
  ondata(data: unknown): void {
    if (typeof data === "string" || Buffer.isBuffer(data)) return this.onSessionData(data);
    const err = new Error("Unknown type: " + String(data));
    for (const socket of [...joinedList(this.joined)]) socket._onerror(err);
    this.conn.close();
  }

  /**
   * @internal Queues an event for its socket's listeners: one tick for all the events of a
   * turn (socket.io takes a tick per event), delivered in the order received.
   */
  _deferEvent(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, event: Event): void {
    const queue = this.deferred;
    if (queue !== undefined) {
      queue.push(socket, event);
      return;
    }
    this.deferred = [socket, event];
    process.nextTick(deliverDeferred, this);
  }

  /** @internal */
  _deliverDeferred(): void {
    const queue = this.deferred;
    this.deferred = undefined;
    if (queue === undefined) return;
    for (let i = 0; i < queue.length; i += 2) {
      try {
        (queue[i] as Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>)._deliverNow(queue[i + 1] as Event);
      } catch (err) {
        // A listener's exception stays uncaught, as with socket.io, without losing the rest.
        process.nextTick(rethrow, err);
      }
    }
  }

  /** @internal A message of the session (the engine socket calls its sink directly). */
  onSessionData(data: string | Buffer): void {
    if (!Buffer.isBuffer(data)) {
      this.pendingBinaryBytes = 0;
    } else {
      // Attachments are each under maxHttpBufferSize; their sum must be too, or a packet
      // with many attachments could hold several times the limit in memory.
      this.pendingBinaryBytes += data.length;
      const limit = this.server.engine?.opts.maxHttpBufferSize ?? Infinity;
      if (this.pendingBinaryBytes > limit) {
        this.onParseError(new Error("binary packet larger than maxHttpBufferSize"));
        return;
      }
    }
    const decoder = this.decoder;
    if (isCustomDecoder(decoder)) {
      try {
        decoder.add(data);
      } catch (err) {
        this.onParseError(err as Error);
      }
      return;
    }
    // The default parser, without a Decoder: the same checks and errors as its `add()`.
    let packet: SocketPacket | undefined;
    try {
      packet = this.decodeDefault(data, decoder);
    } catch (err) {
      this.onParseError(err as Error);
      return;
    }
    if (packet) this.deliverDecoded(packet);
  }

  /**
   * Routes a decoded packet. Called where decoding happens (inside a custom decoder's
   * `add()`, or the default parser's path): an exception thrown by the application's
   * listeners must not pass for a parse error. It is rethrown outside, uncaught, as with the
   * official server.
   */
  private deliverDecoded(packet: SocketPacket): void {
    try {
      this.ondecoded(packet);
    } catch (err) {
      process.nextTick(rethrow, err);
    }
  }

  /** One message through the default parser: a complete packet, if this one completes it. */
  private decodeDefault(data: string | Buffer, pending: PendingPacket | undefined): SocketPacket | undefined {
    // A text message ends a pending packet, whether or not it decodes.
    if (typeof data === "string") this.decoder = undefined;
    const decoded = decodeMessage(data, pending, undefined, DEFAULT_MAX_ATTACHMENTS);
    if (decoded instanceof PendingPacket) {
      this.decoder = decoded;
      return undefined;
    }
    this.decoder = undefined;
    return decoded;
  }

  /** @internal A packet from a custom parser's decoder: the binary messages before it are done with. */
  _parserDecoded(packet: SocketPacket): void {
    this.pendingBinaryBytes = 0;
    this.deliverDecoded(packet);
  }

  /** @internal */
  ondecoded(packet: SocketPacket): void {
    let namespace: string;
    let auth: Record<string, any> | undefined;
    if (this.conn.protocol === 3) {
      // Engine.IO revision 3 (socket.io-client v2): the handshake query rides in the namespace, `/chat?token=1`.
      const mark = packet.nsp.indexOf("?");
      namespace = mark === -1 ? packet.nsp : packet.nsp.slice(0, mark);
      auth = mark === -1 ? {} : Object.fromEntries(new URLSearchParams(packet.nsp.slice(mark + 1)));
    } else {
      namespace = packet.nsp;
      auth = packet.data;
    }
    const socket = joinedIn(this.joined, namespace);
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(namespace, auth);
    } else if (socket && packet.type !== PacketType.CONNECT && packet.type !== PacketType.CONNECT_ERROR) {
      socket._onpacket(packet);
    } else {
      debug("invalid state (packet type %d for %s)", packet.type, namespace);
      this.close();
    }
  }

  /** A packet that does not decode ends the connection with reason "parse error". */
  private onParseError(err: Error): void {
    debug("parse error: %s", err.message);
    for (const socket of joinedList(this.joined)) socket._onerror(err);
    if (this.conn.readyState !== "open") return;
    // Before conn.close(): that may emit "close" ("forced close") synchronously.
    this.onSessionClose("parse error", err);
    this.conn.close();
  }

  /** @internal The session closed. */
  onSessionClose(reason: DisconnectReason, description?: unknown): void {
    this.destroy();
    for (const socket of [...joinedList(this.joined)]) socket._onclose(reason, description);
    this.joined = withNoneJoined(this.joined);
    const decoder = this.decoder;
    if (isCustomDecoder(decoder)) decoder.destroy();
    else this.decoder = undefined;
  }

  private destroy(): void {
    if (this.outlet.sink === this) this.outlet.sink = undefined;
    const decoder = this.decoder;
    if (isCustomDecoder(decoder)) {
      if (decoder.off) decoder.off("decoded", onDecoded);
      else decoder.removeListener?.("decoded", onDecoded);
    }
    this.stopConnectDeadline();
  }
}

/**
 * What a client's `decoder` slot holds: a custom parser's decoder for the client's life, or,
 * with the default parser, a binary packet awaiting its attachments (mostly nothing). One
 * slot for both: most clients hold nothing there.
 */
type DecoderState = PacketDecoder | PendingPacket | undefined;

/** Whether `state` is a custom parser's decoder. */
function isCustomDecoder(state: DecoderState): state is PacketDecoder {
  return state !== undefined && !(state instanceof PendingPacket);
}

const kClient = Symbol("volley:client");
type AnyClient = Client<any, any, any, any>;
type Tagged = { [kClient]?: AnyClient };

// Listeners shared by every client; `this` is the emitter (engine socket or decoder).
function onDecoded(this: Tagged, packet: SocketPacket): void {
  this[kClient]?._parserDecoded(packet);
}

function deliverDeferred(client: AnyClient): void {
  client._deliverDeferred();
}

function rethrow(err: unknown): never {
  throw err;
}

/** A client's place in the shared `connectTimeout` deadline list. */
class ConnectDeadline implements DeadlineEntry {
  dlQueue: DeadlineQueue | undefined = undefined;
  dlPrev: DeadlineEntry | undefined = undefined;
  dlNext: DeadlineEntry | undefined = undefined;
  dlDue = 0;

  constructor(private readonly client: { _onConnectDeadline(): void }) {}

  onDeadline(): void {
    this.client._onConnectDeadline();
  }
}
