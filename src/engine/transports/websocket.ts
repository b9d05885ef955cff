import type { WebSocket } from "ws";
import { Transport, type EngineRequest, type TransportName } from "../transport";
import { encodePacket, type Packet } from "../packet";
import { encodePacketV3 } from "../payload-v3";
import { OPCODE_BINARY, OPCODE_TEXT, encodeTextFrame, frameHeaderSize, writeFrameHeader } from "../websocket/ws-frame";
import { compactListeners } from "../../internal/listener-table";
import { WsConnection, type WsConnectionSink } from "../websocket/ws-connection";
import { COMPRESSION_THRESHOLD } from "../constants";
import { OPEN } from "../websocket/constants";

/** The TCP socket under the connection (a WsConnection, a `ws` socket, or a compatible engine's). */
interface RawStream {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  on(event: "drain", listener: (this: RawStream) => void): unknown;
  destroyed?: boolean;
  writableLength?: number;
  writableNeedDrain?: boolean;
  [kTransport]?: WebSocketTransport;
}

type WsWithTransport = WebSocket & { [kTransport]?: WebSocketTransport; _socket?: RawStream; _extensions?: object };

/** A socket.io adapter may hand us a frame it built once for many recipients. */
export type PreEncodedFrame = Buffer | readonly Buffer[];

const kTransport = Symbol("volley:transport");

/** Binary payloads at least this large are written as their own chunk instead of copied. */
const COPY_LIMIT = 16 * 1024;

/**
 * WebSocket transport, on Volley's own WsConnection (the default) or on a `ws` WebSocket
 * (permessage-deflate, or a `wsEngine`). Each flush writes all of its frames at once: frames are
 * built here into one buffer (large binaries ride as their own chunk) and written to
 * the raw stream under cork, so a burst of packets costs one syscall. When a frame
 * needs `ws` itself (permessage-deflate, or an engine without a raw stream), `ws.send`
 * is used instead.
 */
export class WebSocketTransport extends Transport implements WsConnectionSink {
  perMessageDeflate: { threshold?: number } | false = false;
  readonly socket: WebSocket | WsConnection;

  constructor(req: EngineRequest, socket: WebSocket | WsConnection) {
    super(req);
    this.socket = socket;
    if (socket instanceof WsConnection) {
      socket.sink = this;
    } else {
      (socket as WsWithTransport)[kTransport] = this;
      compactListeners(socket);
      socket.on("message", onWsMessage);
      // `ws` emits "close" once: a plain listener spares the `once` wrapper per connection.
      socket.on("close", onWsClose);
      socket.on("error", onWsError);
    }
    const raw = (socket as WsWithTransport)._socket;
    if (raw && typeof raw.on === "function") {
      raw[kTransport] = this;
      raw.on("drain", onRawDrain);
    }
  }

  /** Bytes written but still queued in Node (the kernel's send buffer is full). */
  override get bufferedBytes(): number {
    const ws = this.socket as WsWithTransport;
    return ws._socket?.writableLength ?? ws.bufferedAmount;
  }

  /** The network is not taking bytes as fast as they come: volatile packets are dropped. */
  override get congested(): boolean {
    return (this.socket as WsWithTransport)._socket?.writableNeedDrain === true;
  }

  get name(): TransportName {
    return "websocket";
  }

  // Called by a WsConnection, and by the shared listeners on a `ws` WebSocket.

  wsText(text: string): void {
    this.onPacket(this.decodeOne(text));
  }

  wsBinary(data: Buffer): void {
    this.onPacket(this.decodeOne(data));
  }

  wsError(error: Error): void {
    this.onError("websocket error", error);
  }

  wsClosed(): void {
    if (this.readyState !== "closed") this.onClose();
  }

  drained(): void {
    this.onBufferDrain();
  }

  send(packets: readonly Packet[], onWritten?: () => void): void {
    const ws = this.socket as WsWithTransport;
    if (ws.readyState !== OPEN) return;
    const raw = ws._socket;
    const compressing = this.perMessageDeflate !== false && hasDeflate(ws);
    if (!raw || typeof raw.cork !== "function" || compressing) {
      this.sendThroughWs(packets, onWritten);
      return;
    }
    // A lone broadcast packet: its frame was built once for every recipient, write it as is.
    const pre = packets.length === 1 ? packets[0].options?.wsPreEncodedFrame : undefined;
    if (pre !== undefined && Buffer.isBuffer(pre)) {
      raw.write(pre, onWritten);
      return;
    }
    if (packets.length === 1 && pre === undefined && typeof (packets[0].data ?? "") === "string") {
      // A lone text packet (an ack, a reply): its frame alone, without frames()' bookkeeping.
      raw.write(encodeTextFrame(this.encodeOne(packets[0]) as string), onWritten);
      return;
    }
    const chunks = pre !== undefined && pre.length > 0 ? (pre as Buffer[]) : this.frames(packets);
    if (chunks.length === 1) {
      raw.write(chunks[0], onWritten);
      return;
    }
    raw.cork();
    for (let i = 0; i < chunks.length - 1; i++) raw.write(chunks[i]);
    raw.write(chunks[chunks.length - 1], onWritten);
    raw.uncork();
  }

  /**
   * Encodes packets into as few buffers as possible, each holding whole frames. A frame an
   * adapter built once for a broadcast (one Buffer, or the [header, payload] array that
   * `ws`'s Sender.frame returns) is copied in part by part when small, and written as is,
   * shared by every recipient, when large.
   */
  private frames(packets: readonly Packet[]): Buffer[] {
    const encoded: Array<string | Buffer | undefined> = new Array(packets.length);
    const lengths: number[] = new Array(packets.length);
    let total = 0;
    for (let i = 0; i < packets.length; i++) {
      const pre = packets[i].options?.wsPreEncodedFrame;
      if (pre) {
        const len = frameLength(pre);
        lengths[i] = len;
        if (len < COPY_LIMIT) total += len;
        continue;
      }
      const e = this.encodeOne(packets[i]);
      encoded[i] = e;
      const len = typeof e === "string" ? Buffer.byteLength(e) : e.length;
      lengths[i] = len;
      if (typeof e === "string" || len < COPY_LIMIT) total += frameHeaderSize(len) + len;
      else total += frameHeaderSize(len);
    }
    const chunks: Buffer[] = [];
    let buf = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < packets.length; i++) {
      const e = encoded[i];
      const len = lengths[i];
      const pre = packets[i].options?.wsPreEncodedFrame;
      if (pre) {
        if (len < COPY_LIMIT) {
          if (Buffer.isBuffer(pre)) offset += pre.copy(buf, offset);
          else for (const part of pre) offset += part.copy(buf, offset);
        } else {
          if (offset > 0) chunks.push(buf.subarray(0, offset));
          if (Buffer.isBuffer(pre)) chunks.push(pre);
          else chunks.push(...pre);
          buf = buf.subarray(offset);
          offset = 0;
        }
      } else if (typeof e === "string") {
        offset = writeFrameHeader(buf, offset, OPCODE_TEXT, len);
        offset += buf.write(e, offset);
      } else {
        const b = e as Buffer;
        offset = writeFrameHeader(buf, offset, OPCODE_BINARY, len);
        if (len < COPY_LIMIT) {
          offset += b.copy(buf, offset);
        } else {
          chunks.push(buf.subarray(0, offset), b);
          buf = buf.subarray(offset);
          offset = 0;
        }
      }
    }
    if (offset > 0 || chunks.length === 0) chunks.push(offset === buf.length ? buf : buf.subarray(0, offset));
    return chunks;
  }

  private encodeOne(packet: Packet): string | Buffer {
    return this.protocol === 4 ? encodePacket(packet, true) : encodePacketV3(packet, this.supportsBinary);
  }

  private sendThroughWs(packets: readonly Packet[], onWritten?: () => void): void {
    const threshold = this.perMessageDeflate ? (this.perMessageDeflate.threshold ?? COMPRESSION_THRESHOLD) : Infinity;
    for (let i = 0; i < packets.length; i++) {
      const data = this.encodeOne(packets[i]);
      const length = typeof data === "string" ? Buffer.byteLength(data) : data.length;
      const compress = packets[i].options?.compress !== false && length >= threshold;
      const last = i === packets.length - 1;
      this.socket.send(data, { compress, binary: typeof data !== "string" }, last ? onWritten : undefined);
    }
  }

  protected doClose(fn: () => void): void {
    this.socket.close();
    fn();
  }
}

function hasDeflate(ws: WsWithTransport): boolean {
  const ext = ws._extensions as Record<string, unknown> | undefined;
  return ext !== undefined && Object.hasOwn(ext, "permessage-deflate");
}

function frameLength(frame: PreEncodedFrame): number {
  if (Buffer.isBuffer(frame)) return frame.length;
  let length = 0;
  for (const part of frame) length += part.length;
  return length;
}

// Shared listeners: `this` is the ws socket, so no closure is made per connection.
function onWsMessage(this: WsWithTransport, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  const transport = this[kTransport];
  if (isBinary) transport?.wsBinary(buf);
  else transport?.wsText(buf.toString("utf8"));
}

function onWsClose(this: WsWithTransport): void {
  this[kTransport]?.wsClosed();
}

function onRawDrain(this: RawStream): void {
  this[kTransport]?.drained();
}

function onWsError(this: WsWithTransport, err: Error): void {
  this[kTransport]?.wsError(err);
}
