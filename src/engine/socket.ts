import { EventEmitter } from "node:events";
import debugModule from "debug";
import type { Transport, EngineRequest, TransportError, TransportSink } from "./transport";
import { isBinary, type DecodedPacket, type Packet, type PacketOptions, type PacketType, type RawData, type SendOptions } from "./packet";
import { CloseReason, type CloseReasonValue } from "./errors";
import { scheduleFlush, type Flushable } from "../internal/flush-queue";
import { deadlinesFor, type DeadlineEntry, type DeadlineQueue } from "../internal/deadlines";
import { ClosedSessionProbe, UpgradeProbe, type ProbeOwner } from "./upgrade-probe";
import { deferListeners, listens } from "../internal/listener-table";

const debug = debugModule("volley:engine:socket");

export type ReadyState = "opening" | "open" | "closing" | "closed";
export type SendCallback = (transport: Transport) => void;

/** What an engine socket needs from its server. */
export interface SocketHost extends EventEmitter {
  opts: {
    pingInterval: number;
    pingTimeout: number;
    upgradeTimeout: number;
    maxHttpBufferSize: number;
    initialPacket?: RawData;
    maxBufferedBytes: number;
  };
  upgrades(transport: string): string[];
  /** The session has closed; called just before its "close" event. */
  removeClient(socket: Socket): void;
}

/** @internal The options of a plain packet, compressed or not: shared by every packet without others. */
export const COMPRESS: PacketOptions = Object.freeze({ compress: true });
/** @internal */
export const NO_COMPRESS: PacketOptions = Object.freeze({ compress: false });

/**
 * The write buffer of every session with nothing to write: an idle session holds no array
 * of its own, and a flush allocates none for the next packets until one comes.
 */
const NO_PACKETS: Packet[] = Object.freeze([]) as unknown as Packet[];

/**
 * @internal Who hears a session's messages and its close first, by direct calls: the
 * Socket.IO client above it. Listeners of "data", "message" and "close" hear them right after.
 */
export interface SessionSink {
  onSessionData(data: string | Buffer): void;
  onSessionClose(reason: CloseReasonValue, description: unknown): void;
}

/**
 * One Engine.IO session. Owns the state machine (opening → open → closing → closed),
 * the heartbeat, the write buffer and the polling → WebSocket upgrade. Transports
 * underneath only move bytes; the active one reports to the session as its sink.
 */
export class Socket extends EventEmitter implements Flushable, DeadlineEntry, TransportSink, ProbeOwner {
  readonly id: string;
  readonly protocol: 3 | 4;
  request: EngineRequest;
  readonly remoteAddress: string;
  readyState: ReadyState = "opening";
  transport: Transport;
  upgrading = false;
  upgraded = false;
  flushQueued = false;

  /** @internal */
  readonly server: SocketHost;
  /** Packets waiting for the next flush (`writeBuffer` to others). */
  private queue: Packet[] = NO_PACKETS;
  /** Approximate size of `queue` (characters or bytes). */
  private pendingBytes = 0;
  private sentCallbacks: SendCallback[] | undefined;
  /** Callback lists of flushes whose bytes are not written yet (dropped if the session closes first). */
  private writingCallbacks: SendCallback[][] | undefined;
  /** What the heartbeat deadline means when it passes: send a ping, or give up on the peer. */
  private awaiting: "ping-due" | "peer" = "ping-due";
  /** @internal */ dlQueue: DeadlineQueue | undefined = undefined;
  /** @internal */ dlPrev: DeadlineEntry | undefined = undefined;
  /** @internal */ dlNext: DeadlineEntry | undefined = undefined;
  /** @internal */ dlDue = 0;
  private probe: UpgradeProbe | undefined;
  /** @internal The Socket.IO client above, if any. */
  sink: SessionSink | undefined = undefined;

  constructor(id: string, server: SocketHost, transport: Transport, req: EngineRequest, protocol: 3 | 4) {
    super();
    // The layer above is a sink, not a listener: only applications listen to a session.
    deferListeners(this);
    this.id = id;
    this.server = server;
    this.request = req;
    this.protocol = protocol;
    this.remoteAddress = req.socket?.remoteAddress ?? "";
    this.transport = transport;
    this.setTransport(transport);
    this.onOpen();
  }

  private onOpen(): void {
    this.readyState = "open";
    this.transport.sid = this.id;
    const opts = this.server.opts;
    this.sendPacket(
      "open",
      JSON.stringify({
        sid: this.id,
        upgrades: this.availableUpgrades(),
        pingInterval: opts.pingInterval,
        pingTimeout: opts.pingTimeout,
        maxPayload: opts.maxHttpBufferSize,
      }),
    );
    if (opts.initialPacket !== undefined) this.sendPacket("message", opts.initialPacket);
    this.emit("open");
    if (this.protocol === 3) this.expectPing();
    else this.schedulePing();
  }

  private availableUpgrades(): string[] {
    return this.server.upgrades(this.transport.name);
  }

  // ---- heartbeat: one deadline per session, in lists shared by every session ----

  /** Revision 4: the server pings after `pingInterval` and waits `pingTimeout` for the pong. */
  private schedulePing(): void {
    this.awaiting = "ping-due";
    deadlinesFor(this.server.opts.pingInterval).add(this);
  }

  /** Revision 3: the client pings; silence for `pingInterval + pingTimeout` ends the session. */
  private expectPing(): void {
    const { pingInterval, pingTimeout } = this.server.opts;
    this.awaiting = "peer";
    deadlinesFor(pingInterval + pingTimeout).add(this);
  }

  /** @internal Called by the deadline list. */
  onDeadline(): void {
    if (this.awaiting === "peer") {
      this.onClose(CloseReason.PING_TIMEOUT);
      return;
    }
    this.sendPacket("ping");
    this.awaiting = "peer";
    deadlinesFor(this.server.opts.pingTimeout).add(this);
  }

  // ---- incoming ----

  /** @internal */
  onTransportPacket(packet: DecodedPacket): void {
    if (this.readyState !== "open") return;
    this.emit("packet", packet);
    switch (packet.type) {
      case "message":
        this.sink?.onSessionData(packet.data ?? "");
        this.emit("data", packet.data);
        this.emit("message", packet.data);
        break;
      case "ping":
        if (this.protocol !== 3) return this.onError(heartbeatDirectionError());
        this.expectPing();
        this.sendPacket("pong");
        this.emit("heartbeat");
        break;
      case "pong":
        if (this.protocol === 3) return this.onError(heartbeatDirectionError());
        this.schedulePing();
        this.emit("heartbeat");
        break;
      case "error":
        this.onClose(CloseReason.PARSE_ERROR);
        break;
      case "close":
        // Polling transports turn a close packet into their own close; on WebSocket it arrives here.
        this.onClose(CloseReason.TRANSPORT_CLOSE);
        break;
      default:
        // open, upgrade and noop mean nothing from a client on an open session.
        break;
    }
  }

  /** @internal */
  onError(err: Error): void {
    debug("transport error %s", err.message);
    this.onClose(CloseReason.TRANSPORT_ERROR, err);
  }

  /** @internal A polling transport got a GET: write what is waiting, or free it for an upgrade. */
  onTransportReady(): void {
    if (this.queue.length > 0) scheduleFlush(this);
    else if (this.probe?.probed) this.transport.releasePoll();
  }

  /** @internal */
  onTransportDrain(): void {
    this.emit("bufferDrain");
  }

  /** @internal */
  onTransportError(err: TransportError): void {
    this.onError(err);
  }

  /** @internal */
  onTransportClose(): void {
    this.onClose(CloseReason.TRANSPORT_CLOSE);
  }

  // ---- transports ----

  private setTransport(transport: Transport): void {
    transport.sink = this;
  }

  private clearTransport(): void {
    const transport = this.transport;
    transport.sink = undefined;
    transport.close();
  }

  /** @internal Starts an upgrade to `transport` (a WebSocket opened with this session's id). */
  _maybeUpgrade(transport: Transport): void {
    this.upgrading = true;
    this.probe = new UpgradeProbe(this, transport, this.server.opts.upgradeTimeout);
  }

  /** @internal */
  onProbeTimeout(probe: UpgradeProbe): void {
    debug("upgrade timed out");
    this.endProbe();
    if (probe.transport.readyState === "open") probe.transport.close();
  }

  /** @internal */
  onProbeGone(): void {
    this.endProbe();
  }

  /** @internal */
  onProbePacket(probe: UpgradeProbe, packet: DecodedPacket): void {
    const transport = probe.transport;
    if (packet.type === "ping" && packet.data === "probe") {
      transport.send([{ type: "pong", data: "probe" }]);
      this.emit("upgrading", transport);
      probe.probed = true;
      if (this.queue.length === 0) this.transport.releasePoll();
      return;
    }
    if (packet.type === "upgrade" && probe.probed && this.readyState !== "closed") {
      this.endProbe();
      this.transport.discard();
      this.clearTransport();
      this.upgraded = true;
      this.transport = transport;
      this.setTransport(transport);
      debug("%s upgraded to %s", this.id, transport.name);
      this.emit("upgrade", transport);
      this.flush();
      if (this.readyState === "closing") transport.close(() => this.onClose(CloseReason.FORCED_CLOSE));
      return;
    }
    this.endProbe();
    transport.close();
  }

  private endProbe(): void {
    const probe = this.probe;
    if (!probe) return;
    this.probe = undefined;
    this.upgrading = false;
    probe.end();
  }

  // ---- outgoing ----

  /** Sends a message. Binary data (Buffer, ArrayBuffer, typed arrays) travels as binary. */
  send(data: RawData, options?: SendOptions | SendCallback, callback?: SendCallback): this {
    if (typeof options === "function") this.sendPacket("message", data, undefined, options);
    else this.sendPacket("message", data, options, callback);
    return this;
  }

  /** Alias of `send`. */
  write(data: RawData, options?: SendOptions | SendCallback, callback?: SendCallback): this {
    return this.send(data, options, callback);
  }

  /** @internal Queues a packet; the buffer is flushed once at the end of the current turn. */
  sendPacket(type: PacketType, data?: RawData, options?: PacketOptions, callback?: SendCallback): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const packet: Packet = {
      type,
      // engine.io sends other values (numbers, null) as their text, a falsy one as nothing.
      data: typeof data === "string" || data === undefined || isBinary(data) ? data : data ? String(data) : undefined,
      options:
        options === undefined ? COMPRESS : options.wsPreEncodedFrame ? options : options.compress === false ? NO_COMPRESS : COMPRESS,
    };
    if (callback) (this.sentCallbacks ??= []).push(callback);
    this.sendPrepared(packet);
  }

  /**
   * @internal Queues a packet object as it is. A broadcast builds its packets once and
   * queues the same objects for every recipient: they must not be changed afterwards.
   */
  sendPrepared(packet: Packet): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    if (listens(this, "packetCreate")) this.emit("packetCreate", packet);
    if (this.queue === NO_PACKETS) this.queue = [packet];
    else this.queue.push(packet);
    const data = packet.data;
    if (data !== undefined) this.pendingBytes += typeof data === "string" ? data.length : (data as { byteLength: number }).byteLength;
    const limit = this.server.opts.maxBufferedBytes;
    if (limit !== Infinity && this.bufferedAmount > limit) {
      debug("%s outgoing buffer over %d bytes, closing", this.id, limit);
      this.onClose(CloseReason.TRANSPORT_ERROR, new Error("outgoing buffer full"));
      return;
    }
    scheduleFlush(this);
  }

  /**
   * Outgoing bytes not yet taken by the network: packets waiting for the transport plus
   * what the transport has queued. With `maxBufferedBytes`, the session closes past it.
   */
  get bufferedAmount(): number {
    return this.pendingBytes + this.transport.bufferedBytes;
  }

  /** Whether the transport cannot take more right now (a slow or stalled client). */
  get congested(): boolean {
    return this.transport.congested;
  }

  /** Writes everything buffered, if the transport can take it now. */
  flush(): void {
    if (this.readyState === "closed" || !this.transport.writable || this.queue.length === 0) return;
    const packets = this.queue;
    this.queue = NO_PACKETS;
    this.pendingBytes = 0;
    const callbacks = this.sentCallbacks;
    this.sentCallbacks = undefined;
    if (listens(this, "flush")) this.emit("flush", packets);
    if (listens(this.server, "flush")) this.server.emit("flush", this, packets);
    const transport = this.transport;
    if (callbacks) (this.writingCallbacks ??= []).push(callbacks);
    transport.send(packets, callbacks && notifySent(this, callbacks, transport));
    if (listens(this, "drain")) this.emit("drain");
    if (listens(this.server, "drain")) this.server.emit("drain", this);
  }

  /** Packets waiting for the transport (read-only view). */
  get bufferedPackets(): readonly Packet[] {
    return this.queue;
  }

  /**
   * engine.io's private write buffer, which tests and tools read and push into: the same
   * array the next flush writes. An idle session shares one empty frozen array (no array
   * per session), so reading this gives the session one of its own.
   */
  get writeBuffer(): Packet[] {
    if (this.queue === NO_PACKETS) this.queue = [];
    return this.queue;
  }

  set writeBuffer(packets: Packet[]) {
    this.queue = packets;
  }

  /** engine.io's private list of send callbacks not yet flushed. */
  get packetsFn(): SendCallback[] {
    return this.sentCallbacks ?? [];
  }

  /** engine.io's private list of flushed callback lists waiting for the write (held by the transport here). */
  get sentCallbackFn(): SendCallback[][] {
    return this.writingCallbacks ?? [];
  }

  /** @internal The bytes of a flush with callbacks were written: call them, unless the session closed since. */
  onWritten(callbacks: SendCallback[], transport: Transport): void {
    const pending = this.writingCallbacks;
    const i = pending === undefined ? -1 : pending.indexOf(callbacks);
    if (pending === undefined || i === -1) return;
    pending.splice(i, 1);
    for (const cb of callbacks) cb(transport);
  }

  // ---- closing ----

  /**
   * Closes the session after what is buffered has been written. With `discard`, the
   * transport is dropped at once without telling the client.
   */
  close(discard = false): void {
    if (discard && (this.readyState === "open" || this.readyState === "closing")) {
      // engine.io writes a packet at once while its transport is writable: what Volley holds
      // for the end of the turn under the same condition leaves before the close.
      if (this.transport.writable) this.flush();
      this.closeTransport(true);
      return;
    }
    if (this.readyState !== "open") return;
    this.readyState = "closing";
    if (this.queue.length > 0) {
      this.once("drain", () => this.closeTransport(discard));
      scheduleFlush(this);
      return;
    }
    this.closeTransport(discard);
  }

  private closeTransport(discard: boolean): void {
    if (discard) this.transport.discard();
    // A transport already closing (a polling close waiting for a next poll that may never
    // come) ignores another close: a discard, as from engine.close(), ends the session now.
    if (discard && this.transport.readyState === "closing") return this.onClose(CloseReason.FORCED_CLOSE);
    this.transport.close(() => this.onClose(CloseReason.FORCED_CLOSE));
  }

  /** @internal */
  onClose(reason: CloseReasonValue, description?: unknown): void {
    if (this.readyState === "closed") return;
    if (debug.enabled) debug("%s closed: %s", this.id, reason);
    this.readyState = "closed";
    // Callbacks of packets that will never be written are let go before anyone hears of the close.
    this.sentCallbacks = undefined;
    this.writingCallbacks = undefined;
    this.dlQueue?.remove(this);
    const probe = this.probe;
    this.endProbe();
    if (probe?.probed && probe.transport.readyState === "open") {
      // The client paused polling for this upgrade: it learns of the close on the WebSocket.
      new ClosedSessionProbe(probe.transport, this.server.opts.upgradeTimeout);
    } else {
      probe?.transport.close();
    }
    this.clearTransport();
    // The server forgets the session before anyone hears of its close (clientsCount is down).
    this.server.removeClient(this);
    this.sink?.onSessionClose(reason, description);
    // The write buffer stays readable by "close" listeners, as engine.io's does.
    this.emit("close", reason, description);
    this.queue = NO_PACKETS;
    this.pendingBytes = 0;
  }
}

function heartbeatDirectionError(): TransportError {
  const err = new Error("invalid heartbeat direction") as TransportError;
  err.type = "TransportError";
  return err;
}

/**
 * The write callback for a flush with send callbacks. A function of its own: a closure in
 * flush() would make V8 allocate its captured variables on every flush, callbacks or not.
 */
function notifySent(socket: Socket, callbacks: SendCallback[], transport: Transport): () => void {
  return () => socket.onWritten(callbacks, transport);
}
