import type { Duplex } from "node:stream";
import { FrameReader, isValidCloseCode, type WebSocketFrameError } from "./ws-reader";
import { encodeFrame } from "./ws-frame";
import {
  CLOSE_ABNORMAL,
  CLOSE_NO_STATUS,
  CLOSED,
  CLOSING,
  CONNECTING,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  OPEN,
} from "./constants";
import { deferListeners, listens } from "../../internal/listener-table";
import { toBuffer, type BinaryData } from "../packet";

/** What a connection reports to: the WebSocket transport. Direct calls, no events. */
export interface WsConnectionSink {
  wsText(text: string): void;
  wsBinary(data: Buffer): void;
  /** A protocol violation by the client; the connection is already closing. */
  wsError(error: WebSocketFrameError): void;
  /** The TCP connection is gone. */
  wsClosed(code: number, reason: string): void;
}

const STATE_NAMES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"] as const;

/** How long a closing connection waits for the client's close frame or FIN, as `ws` does. */
const CLOSE_TIMEOUT = 30_000;

const kConnection = Symbol("volley:ws-connection");

type ConnectionSocket = Duplex & {
  [kConnection]?: WsConnection;
  setNoDelay?(noDelay?: boolean): unknown;
  setTimeout?(timeout: number): unknown;
};

/**
 * A server-side WebSocket connection without extensions: what Volley uses instead of a
 * `ws` WebSocket when permessage-deflate is off (the default) and no `wsEngine` is given.
 * It reads frames straight from the TCP socket's "data" events and reports to its sink
 * by direct calls; the transport writes frames to `_socket` itself. It is one object per
 * connection where `ws` has several (WebSocket, Receiver, Sender and their stream state).
 *
 * The parts of `ws`'s WebSocket API that applications reach through
 * `conn.transport.socket` are here with the same meaning: `readyState`, `protocol`,
 * `_socket`, `bufferedAmount`, `send`, `ping`, `pong`, `close`, `terminate`, and the events
 * `message`, `ping`, `pong`, `error` and `close` (made only when something listens).
 * Closing follows `ws`: a close frame answered by a close frame, then FIN, and a socket not
 * closed 30 s after the server's close frame (or the client's FIN) is destroyed.
 */
export class WsConnection extends FrameReader {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  readyState: number = OPEN;
  sink: WsConnectionSink | undefined = undefined;
  /** The client's close frame arrived, or its frames were refused: nothing more to wait for. */
  private peerDone = false;
  private closeSent = false;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  private closeCode = CLOSE_ABNORMAL;
  private closeReason = "";

  constructor(
    readonly _socket: Duplex,
    readonly protocol: string,
    protected readonly maxPayload: number,
    head: Buffer,
  ) {
    super();
    // Listeners are the exception (the transport is called directly): no table until one comes.
    deferListeners(this);
    const socket = _socket as ConnectionSocket;
    socket[kConnection] = this;
    socket.setTimeout?.(0);
    socket.setNoDelay?.();
    if (head.length > 0) socket.unshift(head);
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
  }

  get extensions(): string {
    return "";
  }

  get binaryType(): string {
    return "nodebuffer";
  }

  /** Bytes written but not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this._socket.writableLength;
  }

  send(data: string | BinaryData, options?: { binary?: boolean; compress?: boolean } | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): void {
    if (typeof options === "function") {
      cb = options;
      options = undefined;
    }
    const payload = payloadOf(data);
    const binary = options?.binary ?? typeof data !== "string";
    this.writeFrame(binary ? OPCODE_BINARY : OPCODE_TEXT, payload, cb);
  }

  ping(data?: string | Buffer, _mask?: boolean, cb?: (err?: Error | null) => void): void {
    this.writeControl(OPCODE_PING, data, cb);
  }

  pong(data?: string | Buffer, _mask?: boolean, cb?: (err?: Error | null) => void): void {
    this.writeControl(OPCODE_PONG, data, cb);
  }

  /** Sends a close frame (none given: an empty one) and waits for the client's. */
  close(code?: number, reason?: string | Buffer): void {
    if (this.readyState === CLOSED) return;
    if (this.readyState === CLOSING) {
      if (this.closeSent && this.peerDone) this._socket.end();
      return;
    }
    const payload = closePayload(code, reason);
    this.readyState = CLOSING;
    const socket = this._socket;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.write(encodeFrame(OPCODE_CLOSE, payload));
    this.closeSent = true;
    if (this.peerDone) socket.end();
    this.closeTimer = setTimeout(destroySocket, CLOSE_TIMEOUT, socket);
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this._socket.destroy();
  }

  protected onText(text: string): void {
    this.sink?.wsText(text);
    if (listens(this, "message")) this.emit("message", Buffer.from(text), false);
  }

  protected onBinary(data: Buffer): void {
    this.sink?.wsBinary(data);
    if (listens(this, "message")) this.emit("message", data, true);
  }

  protected onPing(payload: Buffer): void {
    if (this.readyState === OPEN) this._socket.write(encodeFrame(OPCODE_PONG, payload));
    if (listens(this, "ping")) this.emit("ping", payload);
  }

  protected onPong(payload: Buffer): void {
    if (listens(this, "pong")) this.emit("pong", payload);
  }

  protected onCloseFrame(code: number, reason: string): void {
    this.peerDone = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (code === CLOSE_NO_STATUS) this.close();
    else this.close(code, reason);
  }

  protected onFrameError(error: WebSocketFrameError): void {
    this.peerDone = true;
    this.close(error.closeCode);
    this.sink?.wsError(error);
    if (listens(this, "error")) this.emit("error", error);
  }

  /** @internal */
  socketEnded(): void {
    if (this.readyState === OPEN) this.readyState = CLOSING;
    this.stopReading();
    this._socket.end();
    // A client that half-closes and stops reading would keep the socket (and whatever the
    // server still has queued for it) for ever; `ws` waits, Volley gives it the close timeout.
    this.closeTimer ??= setTimeout(destroySocket, CLOSE_TIMEOUT, this._socket);
  }

  /** @internal */
  socketClosed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.stopReading();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.sink?.wsClosed(this.closeCode, this.closeReason);
    if (listens(this, "close")) this.emit("close", this.closeCode, Buffer.from(this.closeReason));
  }

  private writeControl(opcode: number, data: string | Buffer | undefined, cb?: (err?: Error | null) => void): void {
    const payload = data === undefined ? Buffer.alloc(0) : payloadOf(data);
    if (payload.length > 125) throw new RangeError("The data size must not be greater than 125 bytes");
    this.writeFrame(opcode, payload, cb);
  }

  private writeFrame(opcode: number, payload: Buffer, cb?: (err?: Error | null) => void): void {
    if (this.readyState !== OPEN) {
      if (cb) {
        const state = STATE_NAMES[this.readyState];
        process.nextTick(cb, new Error(`WebSocket is not open: readyState ${this.readyState} (${state})`));
      }
      return;
    }
    this._socket.write(encodeFrame(opcode, payload), cb);
  }
}

function payloadOf(data: string | BinaryData): Buffer {
  return typeof data === "string" ? Buffer.from(data) : toBuffer(data);
}

function closePayload(code: number | undefined, reason: string | Buffer | undefined): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new TypeError("First argument must be a valid error code number");
  }
  const text = reason === undefined ? Buffer.alloc(0) : payloadOf(reason);
  if (text.length > 123) throw new RangeError("The message must not be greater than 123 bytes");
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

// Shared listeners: `this` is the TCP socket, so no closure is made per connection.
function onSocketData(this: ConnectionSocket, chunk: Buffer): void {
  this[kConnection]?.read(chunk);
}

function onSocketEnd(this: ConnectionSocket): void {
  this[kConnection]?.socketEnded();
}

function onSocketClose(this: ConnectionSocket): void {
  this[kConnection]?.socketClosed();
}

/** Errors end the connection; the listener stays to swallow any that follow. */
function onSocketError(this: ConnectionSocket): void {
  const connection = this[kConnection];
  if (connection && connection.readyState === OPEN) connection.readyState = CLOSING;
  this.destroy();
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
