/**
 * volley-io: a drop-in replacement for the socket.io server.
 *
 *   import { Server } from "volley-io";            // ESM / TypeScript
 *   const io = require("volley-io")(httpServer);   // CommonJS, callable like socket.io
 *
 * The Engine.IO layer alone is `volley-io/engine`; the packet parser is `volley-io/parser`.
 */
import { Server, type ServerOptions } from "./server";
import type { Server as HttpServer } from "node:http";

export { Server } from "./server";
export type { ServerOptions, AdapterConstructor, Parser } from "./server";
export { Namespace } from "./namespace";
export type { ExtendedError, NamespaceReservedEventsMap, ServerReservedEventsMap } from "./namespace";
export { ParentNamespace } from "./parent-namespace";
export { Socket } from "./socket";
export type { Event } from "./socket";
export { Client } from "./client";
export { BroadcastOperator, RemoteSocket } from "./broadcast-operator";
export { Adapter, SessionAwareAdapter } from "./adapter/index";
export type { AdapterInterface, BroadcastFlags, BroadcastOptions, Room, SocketId, PrivateSessionId, Session } from "./adapter/index";
export type { Handshake, SocketReservedEventsMap } from "./socket-types";
export type { DisconnectReason } from "./disconnect-reason";
export { DisconnectReasons } from "./disconnect-reason";
export type {
  DefaultEventsMap,
  EventsMap,
  EventNames,
  EventParams,
  TypedEventBroadcaster,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
} from "./typed-events";

/** What `require("volley-io")(srv, opts)` does: `new Server(srv, opts)`. */
export function createServer(srv?: HttpServer | number | Partial<ServerOptions>, opts?: Partial<ServerOptions>): Server {
  return new Server(srv as HttpServer, opts);
}
