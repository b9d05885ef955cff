/**
 * @socket.io/cluster-adapter with Node's `cluster` module and @socket.io/sticky: this
 * test process is the primary (sticky load balancing on one port, the adapter's message
 * relay); three workers, two Volley and one official socket.io, each with clients over
 * WebSocket and over HTTP long-polling (whose requests sticky must keep on one worker).
 * Every cluster behaviour is checked from every worker.
 */
import { test } from "node:test";
import cluster, { type Worker } from "node:cluster";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { setupPrimary } from "@socket.io/cluster-adapter";
import { setupMaster as setupStickyPrimary } from "@socket.io/sticky";
import { within } from "../helpers";
import { Teardown, waitForServerCount } from "./harness/cluster";
import { ChildNode, readyMessage } from "./harness/child-node";
import { TestClient } from "./harness/clients";
import { runClusterChecks } from "./harness/checks";
import type { Kind } from "./harness/node";

test("Node cluster: Volley, socket.io and Volley workers behind @socket.io/sticky with the cluster adapter", async (t) => {
  const teardown = new Teardown(t);
  const http = createServer();
  // Round robin: six clients land two on each of the three workers.
  setupStickyPrimary(http, { loadBalancingMethod: "round-robin" });
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  teardown.defer(() => {
    for (const socket of sockets) socket.destroy();
    // Not awaited: sockets handed to a worker are no longer tracked here ("connections"
    // becomes null), so the close callback would wait for them forever.
    http.close();
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  setupPrimary();
  cluster.setupPrimary({
    exec: join(__dirname, "harness", "cluster-worker.js"),
    // Sticky passes request bytes as Buffers: they must survive IPC.
    serialization: "advanced",
    // Workers' stdout would mix with this test process's report.
    silent: true,
  });

  const kinds: Kind[] = ["volley", "official", "volley"];
  const nodes: ChildNode[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const worker: Worker = cluster.fork({ VT_KIND: kinds[i], VT_INDEX: String(i), VT_URL: url });
    worker.process.stderr?.pipe(process.stderr);
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    teardown.defer(async () => {
      if (!worker.isDead()) worker.kill();
      await exited;
    });
    const failed = exited.then(() => {
      throw new Error(`worker ${i} exited before it was ready`);
    });
    const ready = await within(Promise.race([readyMessage(worker), failed]), 10_000, `worker ${i} ready`);
    const node = new ChildNode(worker, ready.index, ready.kind, ready.url);
    teardown.defer(() => node.close());
    nodes.push(node);
  }
  await waitForServerCount(nodes, nodes.length);
  // One after another, so that round robin spreads them evenly.
  const clients: TestClient[] = [];
  teardown.defer(() => clients.forEach((c) => c.close()));
  for (let i = 0; i < 6; i++) {
    const websocket = i % 2 === 0;
    const name = `c${i}${websocket ? "a" : "b"}`;
    // Sticky learns which worker owns a polling session from an IPC message of that worker;
    // the client's next request can overtake it and reach another worker, which refuses the
    // unknown sid (a race of @socket.io/sticky, with socket.io workers too). A new attempt
    // then succeeds; once the session is known, its requests stay on its worker.
    for (let attempt = 1; ; attempt++) {
      const client = new TestClient(name, url, { transports: websocket ? ["websocket"] : ["polling"] });
      clients.push(client);
      try {
        await client.connected();
        break;
      } catch (err) {
        client.close();
        clients.pop();
        if (websocket || attempt === 3) throw err;
      }
    }
  }
  await runClusterChecks(t, nodes, clients);
});
