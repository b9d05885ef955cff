import type { IncomingMessage } from "node:http";
import type { PerMessageDeflateOptions } from "ws";
import type { SerializeOptions } from "cookie";
import type { CorsOptions, CorsOptionsDelegate } from "./cors";
import type { HttpCompressionOptions } from "./compression";
import type { RawData } from "./packet";
import type { TransportName } from "./transport";
import { COMPRESSION_THRESHOLD } from "./constants";

export interface AttachOptions {
  /** Path the engine serves. @default "/engine.io" */
  path?: string;
  /** Destroy upgrade requests that no handler answers. @default true */
  destroyUpgrade?: boolean;
  /** How long other upgrade handlers get before such a request is destroyed, in ms. @default 1000 */
  destroyUpgradeTimeout?: number;
  /** Serve `path + "/"` (what the official clients request). @default true */
  addTrailingSlash?: boolean;
}

export type AllowRequest = (
  req: IncomingMessage,
  fn: (err: string | null | undefined, success: boolean) => void,
) => void;

export type CookieOptions = SerializeOptions & { name?: string };

/** A `ws`-compatible WebSocket server class (`ws.Server` by default). */
export interface WsEngine {
  new (options: {
    noServer: true;
    clientTracking: boolean;
    perMessageDeflate: boolean | PerMessageDeflateOptions;
    maxPayload: number;
  }): WsServerLike;
}

export interface WsServerLike {
  handleUpgrade(
    req: IncomingMessage,
    socket: import("node:stream").Duplex,
    head: Buffer,
    cb: (ws: import("ws").WebSocket | import("./websocket/ws-connection").WsConnection, req: IncomingMessage) => void,
  ): void;
  on(event: "headers", listener: (headers: string[], req: IncomingMessage) => void): unknown;
  close(): void;
}

export interface ServerOptions {
  /** ms without a pong before the session is closed. @default 20000 */
  pingTimeout?: number;
  /** ms between pings. @default 25000 */
  pingInterval?: number;
  /** ms an unfinished transport upgrade may take. @default 10000 */
  upgradeTimeout?: number;
  /** Largest message or HTTP body in bytes; also the WebSocket maxPayload. @default 1e6 */
  maxHttpBufferSize?: number;
  /** Decides whether a handshake may go on; `success` false refuses it with 403. */
  allowRequest?: AllowRequest;
  /** @default ["polling", "websocket"] */
  transports?: TransportName[];
  /** @default true */
  allowUpgrades?: boolean;
  /** WebSocket permessage-deflate. @default false */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Compression of polling responses. @default { threshold: 1024 } */
  httpCompression?: boolean | HttpCompressionOptions;
  /** @default require("ws").Server */
  wsEngine?: WsEngine;
  /** A message sent right after the open packet. */
  initialPacket?: RawData;
  /** Session cookie: `true` for `{ name: "io", path: "/", httpOnly: true, sameSite: "lax" }`. @default false */
  cookie?: CookieOptions | boolean;
  /** CORS, as the `cors` package takes it. No CORS headers unless set. */
  cors?: CorsOptions | CorsOptionsDelegate;
  /** Accept revision 3 clients (socket.io-client v2). @default false */
  allowEIO3?: boolean;
  /** Session id generator; may return a Promise. @default 20 base64url characters, as base64id makes them */
  generateId?: (req: IncomingMessage) => string | PromiseLike<string>;
  /**
   * Bound on a session's outgoing bytes not yet taken by the network (a client that stops
   * reading). Past it, the session is closed with "transport error" instead of the
   * process growing without bound. Off by default (as the official server).
   */
  maxBufferedBytes?: number;
}

/** Options after defaults: what the engine reads at run time. */
export interface ResolvedServerOptions {
  pingTimeout: number;
  pingInterval: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  allowRequest?: AllowRequest;
  transports: TransportName[];
  allowUpgrades: boolean;
  perMessageDeflate: false | (PerMessageDeflateOptions & { threshold: number });
  httpCompression: false | (HttpCompressionOptions & { threshold: number });
  wsEngine?: WsEngine;
  initialPacket?: RawData;
  cookie: false | (SerializeOptions & { name: string });
  cors?: CorsOptions | CorsOptionsDelegate;
  allowEIO3: boolean;
  maxBufferedBytes: number;
}

export function resolveOptions(opts: ServerOptions): ResolvedServerOptions {
  const cookie =
    opts.cookie === true || (opts.cookie && typeof opts.cookie === "object")
      ? {
          name: "io",
          path: "/",
          httpOnly: true,
          sameSite: "lax" as const,
          ...(typeof opts.cookie === "object" ? opts.cookie : {}),
        }
      : false;
  const pmd = opts.perMessageDeflate;
  const http = opts.httpCompression;
  return {
    pingTimeout: opts.pingTimeout ?? 20000,
    pingInterval: opts.pingInterval ?? 25000,
    upgradeTimeout: opts.upgradeTimeout ?? 10000,
    maxHttpBufferSize: opts.maxHttpBufferSize ?? 1e6,
    allowRequest: opts.allowRequest,
    transports: opts.transports ?? ["polling", "websocket"],
    allowUpgrades: opts.allowUpgrades !== false,
    perMessageDeflate: pmd ? { threshold: COMPRESSION_THRESHOLD, ...(typeof pmd === "object" ? pmd : {}) } : false,
    httpCompression:
      http === false ? false : { threshold: COMPRESSION_THRESHOLD, ...(typeof http === "object" ? (http as HttpCompressionOptions) : {}) },
    wsEngine: opts.wsEngine,
    initialPacket: opts.initialPacket,
    cookie: cookie as ResolvedServerOptions["cookie"],
    cors: opts.cors,
    allowEIO3: opts.allowEIO3 === true,
    maxBufferedBytes: opts.maxBufferedBytes !== undefined && opts.maxBufferedBytes > 0 ? opts.maxBufferedBytes : Infinity,
  };
}
