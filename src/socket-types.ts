import type { IncomingHttpHeaders } from "node:http";
import type { ParsedUrlQuery } from "node:querystring";
import type { DisconnectReason } from "./disconnect-reason";
import { RESERVED_EVENTS as PEER_RESERVED_EVENTS } from "./parser/packet";

export type { DisconnectReason } from "./disconnect-reason";

// The `any`s below are socket.io's own types: code written against them reads these values
// without casts, and `unknown` would not compile there.
export interface SocketReservedEventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  disconnect: (reason: DisconnectReason, description?: any) => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  disconnecting: (reason: DisconnectReason, description?: any) => void;
  error: (err: Error) => void;
}

/**
 * Names an application may never emit to a client: the client reserves them. The same
 * names a peer may never send, so one set: the parser's.
 */
export const RESERVED_EVENTS: ReadonlySet<string | symbol> = PEER_RESERVED_EVENTS;

/**
 * Names `serverSideEmit` refuses: a namespace's own events, which other servers would
 * otherwise take for a real connection (the official server's list).
 */
export const SERVER_SIDE_RESERVED_EVENTS: ReadonlySet<string | symbol> = new Set<string | symbol>(["connect", "connection", "new_namespace"]);

/** Throws the official server's error when `ev` is one of `reserved`. */
export function refuseReserved(reserved: ReadonlySet<string | symbol>, ev: string | symbol): void {
  if (reserved.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
}

/** What the socket learned when it connected. */
export interface Handshake {
  headers: IncomingHttpHeaders;
  /** Date of creation, as a string. */
  time: string;
  address: string;
  xdomain: boolean;
  secure: boolean;
  /** Date of creation, as a Unix timestamp in ms. */
  issued: number;
  url: string;
  query: ParsedUrlQuery;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- socket.io's type (see above)
  auth: { [key: string]: any };
}

/** An error from a middleware; `data` reaches the client with the CONNECT_ERROR. */
export interface ExtendedError extends Error {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- socket.io's type (see above)
  data?: any;
}
