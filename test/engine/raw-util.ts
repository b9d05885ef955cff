/**
 * Raw peers for the engine tests: HTTP requests through `node:http` (no agent, so every
 * request has its own connection), byte-level HTTP over `node:net` for requests
 * `node:http` refuses to send, a minimal hand-written WebSocket client for frames
 * the `ws` client will not produce (bad UTF-8, RSV bits), and a `ws` client with queued
 * messages.
 */
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server as HttpServer,
} from "node:http";
import { connect, type Socket as NetSocket } from "node:net";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { WebSocket, type ClientOptions } from "ws";
import { T, within } from "../helpers";
import type { ConnectionError, Server, Socket as EngineSocket } from "../../src/engine/index";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Exact body bytes (never decompressed). */
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Sent with `Transfer-Encoding: chunked`, one write per chunk, no Content-Length. */
  chunks?: Array<string | Buffer>;
}

/** One HTTP request on its own connection; resolves once the whole response body is in. */
export function request(port: number, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const promise = new Promise<RawResponse>((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    // A server that refuses early (413) may close while the body is still being written.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (opts.chunks) {
      for (const chunk of opts.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
  return within(promise, T, `${opts.method ?? "GET"} ${path.slice(0, 80)}`);
}

export interface RawHttpResponse {
  statusLine: string;
  status: number;
  /** Header block as sent, without the status line. */
  head: string;
  body: Buffer;
}

/** Writes `bytes` on a fresh TCP connection and reads until the server closes it. */
export function rawHttp(port: number, bytes: string | Buffer): Promise<RawHttpResponse> {
  const promise = new Promise<RawHttpResponse>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      resolve(parseHttpHead(all));
    });
  });
  return within(promise, T, "raw http exchange");
}

function parseHttpHead(all: Buffer): RawHttpResponse {
  const end = all.indexOf("\r\n\r\n");
  const headText = (end === -1 ? all : all.subarray(0, end)).toString("latin1");
  const firstLine = headText.split("\r\n", 1)[0];
  const status = Number(firstLine.split(" ")[1]);
  return {
    statusLine: firstLine,
    status,
    head: headText.slice(firstLine.length + 2),
    body: end === -1 ? Buffer.alloc(0) : all.subarray(end + 4),
  };
}

/** Reads one header (case-insensitive) from a raw header block. */
export function headerOf(head: string, name: string): string | undefined {
  const wanted = name.toLowerCase() + ":";
  for (const line of head.split("\r\n")) {
    if (line.toLowerCase().startsWith(wanted)) return line.slice(wanted.length).trim();
  }
  return undefined;
}

// ---- Engine.IO over polling ----

export const ENGINE_PATH = "/engine.io/";

export interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** A polling handshake; asserts nothing, returns the parsed open packet and the response. */
export async function handshake(port: number, query = "EIO=4&transport=polling", opts: RequestOptions = {}): Promise<{ open: OpenPacket; res: RawResponse }> {
  const res = await request(port, `${ENGINE_PATH}?${query}`, opts);
  const packet = res.status === 200 ? firstPacket(res.text) : "";
  if (!packet.startsWith("0{")) throw new Error(`handshake failed: ${res.status} ${res.text}`);
  return { open: JSON.parse(packet.slice(1)) as OpenPacket, res };
}

/** The first packet of a polling body: revision 4, revision 3 `<len>:` or JSONP. */
function firstPacket(text: string): string {
  let payload = text;
  if (payload.startsWith("___eio[")) payload = JSON.parse(payload.slice(payload.indexOf("(") + 1, -2)) as string;
  const v3 = /^(\d+):/.exec(payload);
  if (v3) return payload.substr(v3[0].length, Number(v3[1]));
  const end = payload.indexOf("\x1e");
  return end === -1 ? payload : payload.slice(0, end);
}

export function poll(port: number, sid: string, eio = 4, opts: RequestOptions = {}): Promise<RawResponse> {
  return request(port, `${ENGINE_PATH}?EIO=${eio}&transport=polling&sid=${encodeURIComponent(sid)}`, opts);
}

export function post(port: number, sid: string, body: string | Buffer, eio = 4, headers: OutgoingHttpHeaders = {}): Promise<RawResponse> {
  return request(port, `${ENGINE_PATH}?EIO=${eio}&transport=polling&sid=${encodeURIComponent(sid)}`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers },
    body,
  });
}

/** The parsed JSON body of an error response. */
export function errorBody(res: { body: Buffer }): { code: number; message: string } {
  return JSON.parse(res.body.toString("utf8")) as { code: number; message: string };
}

// ---- WebSocket by hand ----

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 is 0b100). */
  rsv?: number;
  /** Declared length, when it must differ from the payload's (the payload is then sent as is). */
  declaredLength?: number;
}

/** One client frame, masked as RFC 6455 requires; FIN unless `fin: false`, RSV bits as given. */
export function frame(spec: FrameSpec): Buffer {
  const data = typeof spec.payload === "string" ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const len = spec.declaredLength ?? data.length;
  const ext = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const out = Buffer.alloc(2 + ext + 4 + data.length);
  out[0] = (spec.fin === false ? 0 : 0x80) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, 2 + ext);
  for (let i = 0; i < data.length; i++) out[2 + ext + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/** A final client frame: `frame()` for the common case. */
export function clientFrame(opcode: number, payload: Buffer | string, rsv = 0): Buffer {
  return frame({ opcode, payload, rsv });
}

/** A close frame's payload: the code in two bytes, then the reason. */
export function closeFramePayload(code: number, reason: Buffer | string = ""): Buffer {
  const r = typeof reason === "string" ? Buffer.from(reason) : reason;
  const p = Buffer.alloc(2 + r.length);
  p.writeUInt16BE(code, 0);
  r.copy(p, 2);
  return p;
}

/**
 * A WebSocket connection driven byte by byte. `response` is the server's answer to
 * the upgrade request; `next()` returns server frames in order.
 */
export class RawWebSocket {
  readonly status: number;
  private buffer = Buffer.alloc(0);
  private frames: Frame[] = [];
  private waiters: Array<(f: Frame | undefined) => void> = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(
    readonly socket: NetSocket,
    readonly statusLine: string,
    readonly head: string,
    rest: Buffer,
  ) {
    this.status = Number(statusLine.split(" ")[1]);
    this.closedPromise = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    });
    socket.on("data", (c: Buffer) => this.push(c));
    this.push(rest);
  }

  /** Sends an upgrade request to `path`; resolves when the response head is in. */
  static open(port: number, path: string, extraHeaders = ""): Promise<RawWebSocket> {
    const promise = new Promise<RawWebSocket>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => {}); // a refused upgrade may be reset; `close` reports it
      let got = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        got = Buffer.concat([got, c]);
        const end = got.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        socket.off("close", onEarlyClose);
        const parsed = parseHttpHead(got.subarray(0, end + 4));
        resolve(new RawWebSocket(socket, parsed.statusLine, parsed.head, got.subarray(end + 4)));
      };
      const onEarlyClose = () => reject(new Error(`closed before a response: ${got.toString("latin1")}`));
      socket.on("data", onData);
      socket.once("close", onEarlyClose);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
      );
    });
    return within(promise, T, "raw websocket upgrade");
  }

  /** Bytes after the response head that are not frames (a refusal body). */
  async bodyUntilClose(): Promise<Buffer> {
    await within(this.closedPromise, T, "server closing the refused upgrade");
    return this.buffer;
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  sendText(text: string): void {
    this.send(clientFrame(0x1, text));
  }

  /** The next server frame, or undefined once the connection closed. */
  next(ms = T): Promise<Frame | undefined> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(undefined);
    return within(new Promise<Frame | undefined>((resolve) => this.waiters.push(resolve)), ms, "websocket frame");
  }

  destroy(): void {
    this.socket.destroy();
  }

  private push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.status !== 101) return; // a refusal: keep the body as it is
    for (;;) {
      const frame = this.parseOne();
      if (!frame) return;
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    }
  }

  /** Server frames are never masked. */
  private parseOne(): Frame | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    let len = b[1] & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      len = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + len) return undefined;
    const frame = { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload: Buffer.from(b.subarray(offset, offset + len)) };
    this.buffer = b.subarray(offset + len);
    return frame;
  }
}

/** The status code carried by a close frame's payload. */
export function closeCode(frame: Frame | undefined): number | undefined {
  if (!frame || frame.opcode !== 0x8 || frame.payload.length < 2) return undefined;
  return frame.payload.readUInt16BE(0);
}

// ---- server-side events ----

/** The next engine session opened on `engine`. */
export async function nextSocket(engine: Server): Promise<EngineSocket> {
  return within(new Promise<EngineSocket>((resolve) => engine.once("connection", resolve)), T, "connection");
}

/** A raw polling handshake plus the server side of the session it opened. */
export async function session(
  fx: { port: number; engine: Server },
  query = "EIO=4&transport=polling",
  opts: RequestOptions = {},
): Promise<{ sid: string; socket: EngineSocket; res: RawResponse }> {
  const socketPromise = nextSocket(fx.engine);
  const { open, res } = await handshake(fx.port, query, opts);
  const socket = await socketPromise;
  assert.equal(socket.id, open.sid);
  return { sid: open.sid, socket, res };
}

/** Resolves with the reason of the session's `close` event. */
export function closeReason(socket: EngineSocket, ms = T): Promise<string> {
  return within(
    new Promise<string>((resolve) => socket.once("close", (reason: string) => resolve(reason))),
    ms,
    "session close",
  );
}

/** Resolves once `http` has dispatched a request matching `match` (the engine handled it synchronously). */
export function requestArrived(http: HttpServer, match: (req: IncomingMessage) => boolean): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const onRequest = (req: IncomingMessage) => {
        if (!match(req)) return;
        http.off("request", onRequest);
        resolve();
      };
      http.on("request", onRequest);
    }),
    T,
    "request arrival",
  );
}

/** Collects `connection_error` events until `stop()` is called. */
export function collectConnectionErrors(engine: Server): { errors: ConnectionError[]; stop(): void } {
  const errors: ConnectionError[] = [];
  const listener = (e: ConnectionError) => errors.push(e);
  engine.on("connection_error", listener);
  return { errors, stop: () => engine.off("connection_error", listener) };
}

export interface PeerMessage {
  data: Buffer;
  isBinary: boolean;
}

/**
 * A `ws` client whose messages are queued from the first one on, so that the open packet
 * (sent right after the 101) is never missed.
 */
export class WsPeer {
  readonly ws: WebSocket;
  private readonly queue: PeerMessage[] = [];
  private readonly waiters: Array<(m: PeerMessage) => void> = [];
  readonly upgradeResponse: Promise<IncomingMessage>;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options: ClientOptions = {}, protocols: string[] = []) {
    this.ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      const m = { data, isBinary };
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
    this.ws.on("error", () => {}); // surfaces as `close`, which the tests await
    this.upgradeResponse = new Promise((resolve) => this.ws.once("upgrade", resolve));
    this.opened = within(new Promise((resolve) => this.ws.once("open", () => resolve())), T, "websocket open");
    this.closed = new Promise((resolve) => this.ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }

  next(): Promise<PeerMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return within(new Promise((resolve) => this.waiters.push(resolve)), T, "websocket message");
  }

  async nextText(): Promise<string> {
    const m = await this.next();
    assert.equal(m.isBinary, false, "expected a text frame");
    return m.data.toString("utf8");
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return within(this.closed, T, "websocket close");
  }

  /** Drops the connection at once. */
  close(): void {
    this.ws.terminate();
  }
}
