import type { IncomingHttpHeaders } from "node:http";
import type { ParsedUrlQuery } from "node:querystring";
import type { DisconnectReason } from "./disconnect-reason";

export type { DisconnectReason } from "./disconnect-reason";

export interface SocketReservedEventsMap {
  disconnect: (reason: DisconnectReason, description?: any) => void;
  disconnecting: (reason: DisconnectReason, description?: any) => void;
  error: (err: Error) => void;
}

/** Names an application may never emit to a client: the client reserves them. */
export const RESERVED_EVENTS: ReadonlySet<string | symbol> = new Set<string | symbol>([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

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
  auth: { [key: string]: any };
}

/** An error from a middleware; `data` reaches the client with the CONNECT_ERROR. */
export interface ExtendedError extends Error {
  data?: any;
}
