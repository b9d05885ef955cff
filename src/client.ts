import type { IncomingMessage } from "node:http";
import debugModule from "debug";
import type { Socket as EngineSocket } from "./engine/socket";
import type { Packet, PacketOptions, RawData } from "./engine/packet";
import type { WriteOptions } from "./adapter/in-memory-adapter";
import type { Socket, SocketPacket } from "./socket";
import type { Server } from "./server";
import type { EventsMap } from "./typed-events";
import type { DisconnectReason } from "./disconnect-reason";

/* eslint-disable @typescript-eslint/no-explicit-any */

const debug = debugModule("volley:client");

const CONNECT = 0;
const CONNECT_ERROR = 4;

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
export class Client<ListenEvents extends EventsMap, EmitEvents extends EventsMap, ServerSideEvents extends EventsMap, SocketData = any> {
  readonly conn: EngineSocket;
  /** The engine session id (never sent to other clients). */
  readonly id: string;
  private readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  private readonly encoder: PacketEncoder;
  private readonly decoder: PacketDecoder;
  private readonly sockets = new Map<string, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private readonly nsps = new Map<string, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  private connectTimeout: NodeJS.Timeout | undefined;
  /** Bytes of attachments received since the last text packet (a binary packet being reassembled). */
  private pendingBinaryBytes = 0;

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, conn: EngineSocket) {
    this.server = server;
    this.conn = conn;
    this.encoder = server.encoder;
    this.decoder = new server._parser.Decoder();
    this.id = conn.id;
    // Shared listeners find this client on the emitter: no closures per connection.
    (this.decoder as Tagged)[kClient] = this;
    (conn as unknown as Tagged)[kClient] = this;
    this.decoder.on("decoded", onDecoded);
    conn.on("data", onData);
    conn.on("error", onError);
    conn.on("close", onClose);
    this.connectTimeout = setTimeout(() => {
      this.connectTimeout = undefined;
      if (this.nsps.size === 0) {
        debug("no namespace joined yet, closing %s", this.id);
        this.close();
      }
    }, server._connectTimeout);
  }

  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** @internal Connects this client to namespace `name`, or refuses it. */
  connect(name: string, auth: Record<string, any> = {}): void {
    if (this.server._nsps.has(name)) return this.doConnect(name, auth);
    this.server._checkNamespace(name, auth, (dynamicNsp) => {
      if (dynamicNsp) return this.doConnect(name, auth);
      debug("invalid namespace %s", name);
      this._packet({
        type: CONNECT_ERROR,
        nsp: name,
        // An object for every revision: the official server sends v2 clients the same.
        data: { message: "Invalid namespace" },
      });
    });
  }

  private doConnect(name: string, auth: Record<string, any>): void {
    debug("%s connecting to namespace %s", this.id, name);
    const nsp = this.server.of(name);
    nsp._add(this, auth, (socket) => {
      this.sockets.set(socket.id, socket);
      this.nsps.set(nsp.name, socket);
      if (this.connectTimeout) {
        clearTimeout(this.connectTimeout);
        this.connectTimeout = undefined;
      }
    });
  }

  /** @internal Disconnects every namespace, then the connection. */
  _disconnect(): void {
    for (const socket of [...this.sockets.values()]) socket.disconnect();
    this.sockets.clear();
    this.close();
  }

  /** @internal */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.sockets.get(socket.id) !== socket) return;
    this.sockets.delete(socket.id);
    this.nsps.delete(socket.nsp.name);
  }

  private close(): void {
    if (this.conn.readyState === "open") {
      this.conn.close();
      this.onclose("forced server close");
    }
  }

  /** @internal Encodes (unless `preEncoded`) and writes a packet. */
  _packet(packet: SocketPacket | Array<string | Buffer>, opts: WriteOptions = {}): void {
    if (this.conn.readyState !== "open") return;
    const encoded = opts.preEncoded ? (packet as Array<string | Buffer>) : this.encoder.encode(packet);
    this.writeToEngine(encoded as ReadonlyArray<string | Buffer>, opts);
  }

  /**
   * Writes already-encoded packets (a list, or one alone as the official server accepts);
   * used by adapters when they broadcast. The engine packets are built once per broadcast
   * (kept on its options object) and the same objects are queued for every recipient.
   */
  writeToEngine(encodedPackets: ReadonlyArray<RawData> | RawData, opts: WriteOptions): void {
    // Volatile packets are dropped when the client cannot take them now: no poll waiting,
    // or a WebSocket whose kernel buffer is full (a slow or stalled reader).
    if (opts.volatile && (!this.conn.transport.writable || this.conn.congested)) {
      return;
    }
    const shared = opts as WriteOptions & { [kEnginePackets]?: SharedPackets };
    let cached = shared[kEnginePackets];
    if (!cached || cached.source !== encodedPackets) {
      cached = { source: encodedPackets, packets: enginePackets(encodedPackets, opts) };
      // Only a broadcast hands the same options to many clients; a frozen object stays uncached.
      if (Object.isExtensible(opts)) shared[kEnginePackets] = cached;
    }
    const packets = cached.packets;
    for (let i = 0; i < packets.length; i++) this.conn.sendPrepared(packets[i]);
  }

  /** @internal */
  ondata(data: string | Buffer): void {
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
    try {
      this.decoder.add(data);
    } catch (err) {
      this.onParseError(err as Error);
    }
  }

  /** @internal */
  ondecoded(packet: SocketPacket): void {
    let namespace: string;
    let auth: Record<string, any> | undefined;
    if (this.conn.protocol === 3) {
      // Revision 4 (v2 clients): the handshake query rides in the namespace, `/chat?token=1`.
      const mark = packet.nsp.indexOf("?");
      namespace = mark === -1 ? packet.nsp : packet.nsp.slice(0, mark);
      auth = mark === -1 ? {} : Object.fromEntries(new URLSearchParams(packet.nsp.slice(mark + 1)));
    } else {
      namespace = packet.nsp;
      auth = packet.data;
    }
    const socket = this.nsps.get(namespace);
    if (!socket && packet.type === CONNECT) {
      this.connect(namespace, auth);
    } else if (socket && packet.type !== CONNECT && packet.type !== CONNECT_ERROR) {
      socket._onpacket(packet);
    } else {
      debug("invalid state (packet type %d for %s)", packet.type, namespace);
      this.close();
    }
  }

  /** A packet that does not decode ends the connection with reason "parse error". */
  private onParseError(err: Error): void {
    debug("parse error: %s", err.message);
    for (const socket of this.sockets.values()) socket._onerror(err);
    if (this.conn.readyState !== "open") return;
    // Before conn.close(): that may emit "close" ("forced close") synchronously.
    this.onclose("parse error", err);
    this.conn.close();
  }

  /** @internal */
  onerror(err: Error): void {
    for (const socket of this.sockets.values()) socket._onerror(err);
    this.conn.close();
  }

  /** @internal */
  onclose(reason: DisconnectReason, description?: unknown): void {
    this.destroy();
    for (const socket of [...this.sockets.values()]) socket._onclose(reason, description);
    this.sockets.clear();
    this.nsps.clear();
    this.decoder.destroy();
  }

  private destroy(): void {
    this.conn.off("data", onData);
    this.conn.off("error", onError);
    this.conn.off("close", onClose);
    if (this.decoder.off) this.decoder.off("decoded", onDecoded);
    else this.decoder.removeListener?.("decoded", onDecoded);
    if (this.connectTimeout) {
      clearTimeout(this.connectTimeout);
      this.connectTimeout = undefined;
    }
  }
}

const kClient = Symbol("volley:client");
type AnyClient = Client<any, any, any, any>;
type Tagged = { [kClient]?: AnyClient };

// Listeners shared by every client; `this` is the emitter (engine socket or decoder).
function onDecoded(this: Tagged, packet: SocketPacket): void {
  // Runs inside decoder.add(): an exception thrown by the application's listeners must
  // not pass for a parse error. It is rethrown outside, uncaught, as with the official server.
  try {
    this[kClient]?.ondecoded(packet);
  } catch (err) {
    process.nextTick(rethrow, err);
  }
}

function onData(this: Tagged, data: string | Buffer): void {
  this[kClient]?.ondata(data);
}

function onError(this: Tagged, err: Error): void {
  this[kClient]?.onerror(err);
}

function onClose(this: Tagged, reason: DisconnectReason, description?: unknown): void {
  this[kClient]?.onclose(reason, description);
}

const kEnginePackets = Symbol("volley:enginePackets");

interface SharedPackets {
  source: ReadonlyArray<RawData> | RawData;
  packets: Packet[];
}

const COMPRESS: PacketOptions = Object.freeze({ compress: true });
const NO_COMPRESS: PacketOptions = Object.freeze({ compress: false });

/** Engine message packets for encoded Socket.IO packets; a lone text packet may carry its prebuilt frame. */
function enginePackets(encoded: ReadonlyArray<RawData> | RawData, opts: WriteOptions): Packet[] {
  const list = (Array.isArray(encoded) ? encoded : [encoded]) as ReadonlyArray<RawData>;
  const base = opts.compress === false ? NO_COMPRESS : COMPRESS;
  const options: PacketOptions =
    opts.wsPreEncodedFrame && list.length === 1 ? { compress: base.compress, wsPreEncodedFrame: opts.wsPreEncodedFrame } : base;
  return list.map((data) => ({ type: "message", data, options }));
}

function rethrow(err: unknown): never {
  throw err;
}
