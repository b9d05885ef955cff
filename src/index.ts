/**
 * volley-io. Until the Socket.IO layer lands, the top-level `Server` is the engine.
 * CommonJS users may call the module itself: `require("volley-io")(httpServer, opts)`.
 */
import type { Server as HttpServer } from "node:http";
import { Server } from "./engine/server";
import type { AttachOptions, ServerOptions } from "./engine/options";

export * from "./engine/index";

/** Creates a server attached to `srv` (or a new server on port `srv`). */
export function createServer(srv?: HttpServer | number, opts: AttachOptions & ServerOptions = {}): Server {
  const engine = new Server(opts);
  if (typeof srv === "number") {
    const { createServer: createHttp } = require("node:http") as typeof import("node:http");
    const http = createHttp((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    engine.attach(http, opts);
    http.listen(srv);
  } else if (srv) {
    engine.attach(srv, opts);
  }
  return engine;
}
