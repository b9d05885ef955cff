/**
 * A Node `cluster` worker: a Volley or official server with @socket.io/cluster-adapter,
 * fed its connections by @socket.io/sticky in the primary (the test process), served to
 * the test over the worker's IPC channel. Environment: VT_KIND, VT_INDEX, VT_URL.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/cluster-adapter";
import { setupWorker } from "@socket.io/sticky";
import { Server as OfficialServer } from "socket.io";
import { Server as VolleyServer } from "../../../src/index";
import { LocalNode, type Kind } from "./node";
import { serveNode } from "./child-node";

const kind = process.env.VT_KIND as Kind;
const index = Number(process.env.VT_INDEX);
const url = String(process.env.VT_URL);

// The primary hands over connections: this HTTP server never listens itself.
const http = createServer();
const options = { serveClient: false, adapter: createAdapter() };
const io =
  kind === "volley" ? new VolleyServer(http, options) : (new OfficialServer(http, options as object) as unknown as VolleyServer);
setupWorker(io as unknown as Parameters<typeof setupWorker>[0]);
serveNode(new LocalNode(index, kind, io, url, () => io.close()));

process.on("disconnect", () => process.exit(0));
