/**
 * Glue for `io.bind(engine)` with an Engine.IO server that is not Volley's: the official
 * `engine.io` Server and engines built on it (`@socket.io/cluster-engine`, ...). Those talk
 * through events ("data", "close", "error") and `write(data, options)`; Volley's own engine
 * socket is called directly. The choice is made once per connection, so Volley's engine
 * pays nothing for this.
 */
import type { EventEmitter } from "node:events";
import {
  Socket as EngineSocket,
  type CloseReasonValue,
  type Packet,
  type PacketOptions,
  type RawData,
  type SessionSink,
} from "./engine/index";

/** The public surface of an engine.io Socket that the Socket.IO layer uses. */
export interface ForeignEngineSocket extends EventEmitter {
  readonly id: string;
  readonly protocol: number;
  readonly request: unknown;
  readonly readyState: string;
  readonly transport: { writable: boolean; name?: string };
  write(data: RawData, options?: { compress?: boolean; wsPreEncodedFrame?: readonly Buffer[] }, callback?: () => void): unknown;
  close(discard?: boolean): unknown;
}

/** The public surface of an engine.io Server that `io.bind()`, the clients and `io.close()` use. */
export interface ForeignEngine extends EventEmitter {
  /** `maxHttpBufferSize` also bounds a binary packet's attachments together. */
  opts: { maxHttpBufferSize?: number };
  close(): unknown;
}

/** Where a Socket.IO client writes engine packets and who gets the session's messages. */
export interface PacketOutlet {
  sink: SessionSink | undefined;
  sendPrepared(packet: Packet): void;
}

/** Volley's engine socket as it is, or glue over another engine's socket. */
export function outletFor(conn: EngineSocket | ForeignEngineSocket): PacketOutlet {
  return conn instanceof EngineSocket ? conn : new ForeignOutlet(conn);
}

/** Closes the bound engine: Volley's gracefully, another one with its `close()`. */
export function closeEngine(engine: { shutdown?: () => Promise<void>; close(): unknown } | undefined): Promise<void> | void {
  if (!engine) return;
  if (typeof engine.shutdown === "function") return engine.shutdown();
  engine.close();
}

type ForeignOptions = { compress: boolean; wsPreEncodedFrame?: readonly Buffer[] };
const kForeignOptions = Symbol("volley:foreignOptions");
type SharedOptions = PacketOptions & { [kForeignOptions]?: ForeignOptions };

class ForeignOutlet implements PacketOutlet {
  private client: SessionSink | undefined = undefined;
  private readonly onData = (data: unknown): void => {
    // engine.io hands binary as Buffer under Node; an engine may give an ArrayBuffer.
    const message = typeof data === "string" || Buffer.isBuffer(data) ? data : toBuffer(data);
    this.client?.onSessionData(message);
  };
  private readonly onClose = (reason: CloseReasonValue, description?: unknown): void => {
    this.client?.onSessionClose(reason, description);
  };
  // engine.io itself emits no "error" on a socket; an engine built on it might. Closing
  // leads to "close", which tells the client (and no listener would make it throw).
  private readonly onError = (): void => {
    this.conn.close();
  };

  constructor(private readonly conn: ForeignEngineSocket) {}

  get sink(): SessionSink | undefined {
    return this.client;
  }

  /** Setting the client listens to the socket; clearing it stops listening. */
  set sink(client: SessionSink | undefined) {
    const conn = this.conn;
    if (client && !this.client) {
      conn.on("data", this.onData);
      conn.on("error", this.onError);
      conn.on("close", this.onClose);
    } else if (!client && this.client) {
      conn.off("data", this.onData);
      conn.off("error", this.onError);
      conn.off("close", this.onClose);
    }
    this.client = client;
  }

  sendPrepared(packet: Packet): void {
    if (packet.data !== undefined) this.conn.write(packet.data, foreignOptions(packet.options));
  }
}

/**
 * engine.io writes `compress` into the options it is given (so they may not be frozen) and
 * sends `wsPreEncodedFrame` with ws's `sendFrame()`, which takes a list of buffers. The
 * options of a broadcast are shared by its packets: they are converted once.
 */
function foreignOptions(options: PacketOptions | undefined): ForeignOptions {
  const compress = options?.compress !== false;
  const frame = options?.wsPreEncodedFrame;
  if (!frame) return { compress };
  const shared = options as SharedOptions;
  let converted = shared[kForeignOptions];
  if (!converted) {
    converted = { compress, wsPreEncodedFrame: Buffer.isBuffer(frame) ? [frame] : (frame as readonly Buffer[]) };
    if (Object.isExtensible(shared)) shared[kForeignOptions] = converted;
  }
  return converted;
}

function toBuffer(data: unknown): Buffer {
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data));
}
