import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { prependRequestHandler } from "../internal/request-listener";
import type { AttachOptions } from "./options";
import type { Server } from "./server";
import { destroyOnError } from "./upgrade";

/**
 * Serves `options.path` on `server` for requests and upgrades; every other request
 * still reaches the listeners that were there before, and other upgrade handlers
 * keep `destroyUpgradeTimeout` ms to answer theirs.
 */
export function attach(engine: Server, server: HttpServer, options: AttachOptions): void {
  const path = computePath(options);
  const exact = options.addTrailingSlash === false;
  const destroyUpgrade = options.destroyUpgrade !== false;
  const destroyUpgradeTimeout = options.destroyUpgradeTimeout ?? 1000;
  engine.httpServer = server;
  server.on("close", () => engine.close());
  server.on("listening", () => engine.init());
  prependRequestHandler(server, (req, res) => {
    if (!matchesPath(req.url, path, exact)) return false;
    engine.handleRequest(req, res);
    return true;
  });
  if (!engine.opts.transports.includes("websocket")) return;
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (matchesPath(req.url, path, exact)) {
      engine.handleUpgrade(req, socket, head);
      return;
    }
    if (!destroyUpgrade) return;
    // Node stops listening for errors on a socket it hands to 'upgrade': a reset before
    // the timer would be an unhandled 'error' (CVE-2022-41940).
    socket.on("error", destroyOnError);
    setTimeout(() => {
      const raw = socket as Duplex & { bytesWritten?: number };
      if (socket.writable && (raw.bytesWritten ?? 0) <= 0) socket.end();
    }, destroyUpgradeTimeout).unref();
  });
}

/** The attached path: `/engine.io/` by default, without its trailing slash when `addTrailingSlash` is false. */
export function computePath(options: AttachOptions): string {
  const path = (options.path ?? "/engine.io").replace(/\/$/, "");
  return options.addTrailingSlash === false ? path : path + "/";
}

/** Whether `url` is under `path`; with `exact`, only the path itself, its query, or below it. */
export function matchesPath(url: string | undefined, path: string, exact: boolean): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  if (!exact || url.length === path.length) return true;
  const next = url.charCodeAt(path.length);
  return next === QUESTION_MARK || next === SLASH;
}

const QUESTION_MARK = 0x3f;
const SLASH = 0x2f;
