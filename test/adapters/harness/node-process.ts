/**
 * Entry point of a node in its own process (started with `child_process.fork`): a Volley
 * or official server with @socket.io/redis-adapter, served to the parent over IPC.
 * Configured by the VT_NODE environment variable: `{ kind, index, key }`.
 */
import { createAdapter } from "@socket.io/redis-adapter";
import { startNode, type Kind } from "./node";
import { serveNode } from "./child-node";
import { closeRedis, nodeRedis } from "./services";

interface Config {
  kind: Kind;
  index: number;
  key: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.VT_NODE ?? "") as Config;
  const pub = await nodeRedis();
  const sub = pub.duplicate();
  sub.on("error", () => {});
  await sub.connect();
  const node = await startNode(config.kind, config.index, {
    adapter: createAdapter(pub, sub, { key: config.key, requestsTimeout: 3000 }),
  });
  const closeServer = node.close.bind(node);
  node.close = async () => {
    await closeServer();
    await Promise.all([closeRedis(pub), closeRedis(sub)]);
  };
  serveNode(node);
}

// The parent going away ends the child, whatever state it is in.
process.on("disconnect", () => process.exit(0));
main().catch((err: unknown) => {
  console.error("node process failed:", err);
  process.exit(1);
});
