import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from "node:http";
import type { WebSocket } from "ws";
import { decodePacket, decodePayload, type DecodedPacket, type Packet } from "./packet";
import { decodePacketV3, decodePayloadV3 } from "./payload-v3";
import type { Query } from "./query";
import { protocolOf } from "./query";
import { deferListeners, listens } from "../internal/listener-table";
import type { WsConnection } from "./websocket/ws-connection";

/** A request as the engine sees it: the parsed query is kept on it, as engine.io does. */
export type EngineRequest = IncomingMessage & {
  _query: Query;
  res?: ServerResponse;
  /** Volley's own WsConnection by default; a `ws` WebSocket with permessage-deflate or a `wsEngine`. */
  websocket?: WebSocket | WsConnection;
};

export type TransportReadyState = "open" | "closing" | "closed";

export type TransportName = "polling" | "websocket";

/** An error a transport reports: the engine socket turns it into a "transport error" close. */
export interface TransportError extends Error {
  type: "TransportError";
  description?: unknown;
}

/**
 * Who a transport reports to, by direct calls: the engine socket for its active transport,
 * the upgrade probe for a WebSocket being probed. Calls rather than listeners keep a
 * transport's own listener table empty (it is per connection) and skip the emitter.
 */
export interface TransportSink {
  onTransportPacket(packet: DecodedPacket): void;
  /** A polling GET arrived: the transport can write now. */
  onTransportReady(): void;
  /** The network took what was queued on a WebSocket. */
  onTransportDrain(): void;
  onTransportError(err: TransportError): void;
  onTransportClose(): void;
}

/**
 * A transport only moves bytes: it decodes what arrives into packets and writes what the
 * engine socket hands to `send`. It reports to its `sink` first, then emits the same as an
 * event for whoever else listens: `packet`, `ready` (it can write now), `bufferDrain`,
 * `error`, `close` and, for HTTP responses, `headers(headers, req)`.
 */
export abstract class Transport extends EventEmitter {
  /** Session id, set by the engine socket that owns this transport. */
  sid = "";
  readyState: TransportReadyState = "open";
  /** Set when an upgrade replaced this transport: it closes without telling the client. */
  discarded = false;
  /** @internal Who this transport reports to; none once its session has let go of it. */
  sink: TransportSink | undefined = undefined;
  readonly protocol: 3 | 4;
  /** Whether binary may travel as binary (revision 3 clients may ask for base64 with `b64`). */
  supportsBinary: boolean;

  static upgradesTo: readonly string[] = [];

  constructor(req: { _query: Query }) {
    super();
    // Its session hears from it by direct calls: only applications listen to a transport.
    deferListeners(this);
    this.protocol = protocolOf(req._query);
    this.supportsBinary = !req._query.b64;
  }

  abstract get name(): TransportName;

  /** Writes packets; `onWritten` runs once they have been handed to the kernel. */
  abstract send(packets: readonly Packet[], onWritten?: () => void): void;

  protected abstract doClose(fn: () => void): void;

  /** Whether `send` reaches the client now: a WebSocket's until it closes; polling says its own. */
  get writable(): boolean {
    return this.readyState !== "closed";
  }

  /** Bytes handed to the network layer but not yet sent (WebSocket only; polling answers at once). */
  get bufferedBytes(): number {
    return 0;
  }

  /** Whether the transport cannot take more right now (volatile packets are then dropped). */
  get congested(): boolean {
    return !this.writable;
  }

  /** Answers a waiting poll with a noop so the client can pause for an upgrade (polling only). */
  releasePoll(): void {}

  discard(): void {
    this.discarded = true;
  }

  /** Polling handles HTTP requests; a WebSocket has nothing to do per request. */
  onRequest(_req: EngineRequest, _res?: ServerResponse): void {}

  close(fn?: () => void): void {
    if (this.readyState === "closed" || this.readyState === "closing") return;
    this.readyState = "closing";
    this.doClose(fn ?? noop);
  }

  protected onError(message: string, description?: unknown): void {
    const sink = this.sink;
    if (sink === undefined && !listens(this, "error")) return;
    const err = new Error(message) as TransportError;
    err.type = "TransportError";
    err.description = description;
    sink?.onTransportError(err);
    // An "error" event nobody listens to would throw: with no listener left, it is dropped.
    if (listens(this, "error")) this.emit("error", err);
  }

  protected onPacket(packet: DecodedPacket): void {
    this.sink?.onTransportPacket(packet);
    if (listens(this, "packet")) this.emit("packet", packet);
  }

  protected onReady(): void {
    this.sink?.onTransportReady();
    if (listens(this, "ready")) this.emit("ready");
  }

  protected onBufferDrain(): void {
    this.sink?.onTransportDrain();
    if (listens(this, "bufferDrain")) this.emit("bufferDrain");
  }

  protected decodeOne(data: string | Buffer): DecodedPacket {
    return this.protocol === 4 ? decodePacket(data) : decodePacketV3(data);
  }

  protected decodeMany(payload: string | Buffer): DecodedPacket[] {
    if (this.protocol === 4) return decodePayload(typeof payload === "string" ? payload : payload.toString("utf8"));
    return decodePayloadV3(payload);
  }

  protected onClose(): void {
    this.readyState = "closed";
    this.sink?.onTransportClose();
    if (listens(this, "close")) this.emit("close");
  }

  /** Lets the server add headers (cookie, `headers` listeners) to an HTTP response. */
  protected emitHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage): OutgoingHttpHeaders {
    this.emit("headers", headers, req);
    return headers;
  }
}

function noop(): void {}
