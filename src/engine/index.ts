import { createServer, type Server as HttpServer } from "node:http";
import { Server } from "./server";
import type { AttachOptions, ServerOptions } from "./options";

export { Server } from "./server";
export type { ConnectionError, Middleware } from "./server";
export { Socket } from "./socket";
export type { ReadyState, SendCallback } from "./socket";
export { Transport } from "./transport";
export type { EngineRequest, TransportName, TransportError } from "./transport";
export { transports } from "./transports/index";
export type { AttachOptions, ServerOptions, AllowRequest, CookieOptions, WsEngine } from "./options";
export type { CorsOptions, CorsOptionsDelegate } from "./cors";
export type { Packet, PacketType, RawData, SendOptions } from "./packet";
export { ErrorCode as errors, ErrorMessages as errorMessages, CloseReason } from "./errors";
/*
 * For Volley's socket layer, which reaches the engine only through this module: not for
 * applications (marked @internal where they are defined).
 */
export type { SessionSink } from "./socket";
export type { PacketOptions } from "./packet";
export type { CloseReasonValue } from "./errors";
export { corsMiddleware } from "./cors";
export { broadcastPackets, encodeBroadcastFrame, messagePacket } from "./message-packets";
import * as packetCodec from "./packet";
import * as payloadV3 from "./payload-v3";

/** The Engine.IO codecs: revision 4 (`encodePacket`, `decodePayload`, ...) and revision 3 (`v3`). */
export const parser = { ...packetCodec, protocol: 4, v3: payloadV3 };

/** Engine.IO protocol revision spoken by default. */
export const protocol = 4;

/** Serves the engine on `server` (see `Server#attach`). */
export function attach(server: HttpServer, options: AttachOptions & ServerOptions = {}): Server {
  const engine = new Server(options);
  engine.attach(server, options);
  return engine;
}

/** An HTTP server on `port` that serves only the engine (other requests get 501). */
export function listen(port: number, options: AttachOptions & ServerOptions = {}, listenCallback?: () => void): Server {
  const server = createServer((_req, res) => {
    res.writeHead(501);
    res.end("Not Implemented");
  });
  const engine = attach(server, options);
  engine.httpServer = server;
  server.listen(port, listenCallback);
  return engine;
}
