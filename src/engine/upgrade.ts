import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import debugModule from "debug";
import { ErrorCode, ErrorMessages, refusalBody, statusOf, type ErrorCodeValue, type ErrorContext } from "./errors";
import type { ConnectionError, Server } from "./server";
import type { EngineRequest } from "./transport";
import { WebSocketTransport } from "./transports/websocket";
import { sidOf } from "./query";
import { OK, type Verdict } from "./verify";
import { UpgradeResponse, endRawResponse, pushHeaderLines } from "./websocket/upgrade-response";
import type { WsConnection } from "./websocket/ws-connection";
import { JSON_CONTENT_TYPE } from "./constants";

const debug = debugModule("volley:engine");

const JSON_REFUSAL_LINES = ["Connection: close", `Content-Type: ${JSON_CONTENT_TYPE}`] as const;

/** One upgrade request on its way: what goes into the 101 response and, for a handshake, the new id. */
interface Upgrade {
  readonly server: Server;
  readonly req: EngineRequest;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly res: UpgradeResponse;
  id: string | undefined;
}

/**
 * Upgrades handed to the WebSocket server, for its "headers" event. Kept off the request
 * (which lives as long as its session) so that no property is added to it and deleted.
 */
const pendingUpgrades = new WeakMap<IncomingMessage, Upgrade>();

/** A WebSocket upgrade: middlewares, the refusal checks, a session id for a handshake, then `completeUpgrade`. */
export function handleUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  server.prepare(req);
  const request = req as EngineRequest;
  // Until `ws` takes the socket over, a reset would be an unhandled 'error'.
  socket.on("error", destroyOnError);
  const upgrade: Upgrade = {
    server,
    req: request,
    socket,
    head: head.length > 0 ? Buffer.from(head) : head,
    res: new UpgradeResponse(request, socket),
    id: undefined,
  };
  server.applyMiddlewares(request, upgrade.res as unknown as ServerResponse, (err) => afterMiddlewares(upgrade, err));
}

function afterMiddlewares(upgrade: Upgrade, err: unknown): void {
  if (err !== undefined) {
    return abortHandshake(upgrade.server, upgrade.req, upgrade.socket, ErrorCode.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE", error: err });
  }
  if (upgrade.res.writableEnded) return;
  upgrade.server.checkRequest(upgrade.req, true, (verdict) => afterChecks(upgrade, verdict));
}

function afterChecks(upgrade: Upgrade, verdict: Verdict): void {
  if (verdict !== OK) return abortHandshake(upgrade.server, upgrade.req, upgrade.socket, verdict.code, verdict.context);
  // Middlewares such as express-session finish their headers on writeHead().
  upgrade.res.writeHead();
  if (sidOf(upgrade.req._query) !== undefined) return completeUpgrade(upgrade);
  upgrade.server.resolveId(upgrade.req, (id, error) => afterId(upgrade, id, error));
}

function afterId(upgrade: Upgrade, id: string | undefined, error: unknown): void {
  if (id === undefined) {
    return abortHandshake(upgrade.server, upgrade.req, upgrade.socket, ErrorCode.BAD_REQUEST, { name: "ID_GENERATION_ERROR", error });
  }
  upgrade.id = id;
  completeUpgrade(upgrade);
}

/** Hands an accepted upgrade to the WebSocket server; its connection opens or upgrades a session. */
function completeUpgrade(upgrade: Upgrade): void {
  const { server, req, socket } = upgrade;
  const ws = server.ws;
  if (socket.destroyed || !ws) return;
  // The 101 response and the open packet (written by the flush queue's tick, queued
  // during the upgrade) leave in one write. The uncork tick comes after that flush, and
  // runs on every path: a refused upgrade, a throwing listener, an upgrade of a session.
  socket.cork();
  try {
    pendingUpgrades.set(req, upgrade);
    ws.handleUpgrade(req, socket, upgrade.head, (websocket) => {
      pendingUpgrades.delete(req);
      socket.off("error", destroyOnError);
      onWebSocket(upgrade, websocket);
    });
  } finally {
    process.nextTick(uncork, socket);
  }
}

/**
 * The 101 response's own lines: the middlewares' headers and `headers` listeners'. No
 * session cookie: engine.io sets it on polling responses only.
 */
export function upgradeHeaderLines(server: Server, req: IncomingMessage): string[] {
  const headers = pendingUpgrades.get(req)?.res.getHeaders() ?? {};
  server.addHeaders(headers, req as EngineRequest);
  const lines: string[] = [];
  for (const key of Object.keys(headers)) pushHeaderLines(lines, key, headers[key]);
  return lines;
}

function onWebSocket(upgrade: Upgrade, websocket: WebSocket | WsConnection): void {
  const { server, req, id } = upgrade;
  req.websocket = websocket;
  if (id !== undefined) {
    server.openSession(id, req, createWebSocketTransport(server, req, websocket));
    return;
  }
  const sid = sidOf(req._query) as string;
  const client = Object.hasOwn(server.clients, sid) ? server.clients[sid] : undefined;
  if (!client || client.upgrading || client.upgraded || server.upgrades(client.transport.name).length === 0) {
    debug("refusing upgrade of %s", sid);
    websocket.close();
    return;
  }
  client._maybeUpgrade(createWebSocketTransport(server, req, websocket));
}

function createWebSocketTransport(server: Server, req: EngineRequest, websocket: WebSocket | WsConnection): WebSocketTransport {
  const transport = new WebSocketTransport(req, websocket);
  transport.perMessageDeflate = server.opts.perMessageDeflate;
  return transport;
}

/** Refuses an upgrade: `connection_error`, then the JSON refusal written raw on the socket, which closes. */
export function abortHandshake(server: Server, req: IncomingMessage, socket: Duplex, code: ErrorCodeValue, context: ErrorContext): void {
  debug("refusing upgrade %s: %s", req.url, ErrorMessages[code]);
  server.emit("connection_error", { req, code, message: ErrorMessages[code], context } satisfies ConnectionError);
  endRawResponse(socket, statusOf(code), JSON_REFUSAL_LINES, refusalBody(code, context));
}

function uncork(socket: Duplex): void {
  socket.uncork();
}

/** Until a socket is taken over, an error (a reset) destroys it rather than going unhandled. */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}
