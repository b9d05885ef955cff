/**
 * Nodes in separate processes (`child_process.fork`), each a server with
 * @socket.io/redis-adapter on a real Redis: two Volley nodes and one official socket.io
 * node, clients on each, the redis-emitter from this process. Every cluster behaviour is
 * checked from every process, and every client's receipts are counted.
 */
import { test } from "node:test";
import { fork } from "node:child_process";
import { join } from "node:path";
import { Emitter } from "@socket.io/redis-emitter";
import { within } from "../helpers";
import { closeRedis, nodeRedis, requireRedis, uniqueName } from "./harness/services";
import { Teardown, waitForServerCount } from "./harness/cluster";
import { ChildNode, readyMessage } from "./harness/child-node";
import { connectClients } from "./harness/clients";
import { runClusterChecks, type EmitterLike } from "./harness/checks";
import type { Kind } from "./harness/node";

async function forkNode(teardown: Teardown, kind: Kind, index: number, key: string): Promise<ChildNode> {
  const child = fork(join(__dirname, "harness", "node-process.js"), [], {
    env: { ...process.env, VT_NODE: JSON.stringify({ kind, index, key }) },
    // Structured clone over IPC, so that Buffers given to emit() stay binary.
    serialization: "advanced",
    // The test runner reads this process's stdout: children must not write to it.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  teardown.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  });
  const failed = exited.then(() => {
    throw new Error(`node process ${index} exited before it was ready`);
  });
  const ready = await within(Promise.race([readyMessage(child), failed]), 10_000, `node process ${index} ready`);
  const node = new ChildNode(child, ready.index, ready.kind, ready.url);
  teardown.defer(() => node.close());
  return node;
}

test("three processes (Volley, socket.io, Volley) on the Redis adapter, the redis-emitter from a fourth", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-procs");
  const kinds: Kind[] = ["volley", "official", "volley"];
  const nodes = await Promise.all(kinds.map((kind, i) => forkNode(teardown, kind, i, key)));
  await waitForServerCount(nodes, nodes.length);
  const clients = await connectClients(nodes.map((n) => n.url));
  teardown.defer(() => clients.forEach((c) => c.close()));
  const emitterClient = await nodeRedis();
  teardown.defer(() => closeRedis(emitterClient));
  const emitter = new Emitter(emitterClient, { key }) as unknown as EmitterLike;
  await runClusterChecks(t, nodes, clients, { emitter });
});
