/**
 * Clusters that mix Volley nodes and official socket.io 4.8 nodes on the same Redis, so
 * that a team can move node by node: every cluster behaviour, checked from every node,
 * so in both directions (see also the mixed clusters in the other adapter tests and in
 * multi-process.test.ts). And what each kind of node reports about the other's sockets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { T, within } from "../helpers";
import { closeRedis, ioRedis, requireRedis, uniqueName, nodeRedisPair, ioRedisPair } from "./harness/services";
import { startCluster, Teardown } from "./harness/cluster";
import { runClusterChecks, type EmitterLike } from "./harness/checks";
import type { LocalNode } from "./harness/node";

test("redis-adapter (ioredis): socket.io, Volley, socket.io nodes and the redis-emitter", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-mixed");
  const { nodes, clients } = await startCluster(teardown, ["official", "volley", "official"], async () => {
    const { pub, sub } = await ioRedisPair(teardown);
    return { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) };
  });
  const emitterClient = await ioRedis();
  teardown.defer(() => closeRedis(emitterClient));
  await runClusterChecks(t, nodes, clients, { emitter: new Emitter(emitterClient, { key }) as unknown as EmitterLike });
});

test("sharded redis-adapter: Volley, socket.io, Volley nodes", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const channelPrefix = uniqueName("volley-mixed-sharded");
  const { nodes, clients } = await startCluster(teardown, ["volley", "official", "volley"], async () => {
    const { pub, sub } = await nodeRedisPair(teardown);
    // "static": one channel per namespace, no per-room subscriptions to wait for.
    return { adapter: createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: "static" }) };
  });
  await runClusterChecks(t, nodes, clients);
});

/* eslint-disable @typescript-eslint/no-explicit-any */
type Described = Record<string, string>;

/** The shape of a handshake (key → type), and of its query. */
function shape(handshake: Record<string, unknown>): { handshake: Described; query: Described } {
  const describe = (o: Record<string, unknown>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, typeof o[k]]));
  return { handshake: describe(handshake), query: describe(handshake.query as Record<string, unknown>) };
}

test("fetchSockets(): a socket.io node and a Volley node describe each other's sockets alike", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-describe");
  const { nodes, clients } = await startCluster(
    teardown,
    ["official", "volley"],
    async () => {
      const { pub, sub } = await nodeRedisPair(teardown);
      return { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) };
    },
    { perNode: 1, clientOptions: { query: { q: "1" } } },
  );
  const [official, volley] = nodes as LocalNode[];
  const fetchFrom = (node: LocalNode) => within(node.io.fetchSockets(), T, "fetchSockets") as Promise<any[]>;
  const seenByOfficial = await fetchFrom(official);
  const seenByVolley = await fetchFrom(volley);
  const pick = (list: any[], name: string) => list.find((s) => s.data.name === name);
  // n0a is on the official node, n1a on the Volley node (both over WebSocket).
  const remoteVolleySocket = pick(seenByOfficial, "n1a");
  const localOfficialSocket = pick(seenByOfficial, "n0a");
  const remoteOfficialSocket = pick(seenByVolley, "n0a");
  assert.ok(remoteVolleySocket && localOfficialSocket && remoteOfficialSocket);
  // Same shape as the official server's own handshake, whichever node reports it.
  const reference = shape(localOfficialSocket.handshake);
  assert.deepEqual(shape(remoteVolleySocket.handshake), reference);
  assert.deepEqual(shape(remoteOfficialSocket.handshake), reference);
  for (const [socket, client] of [
    [remoteVolleySocket, clients[1]],
    [remoteOfficialSocket, clients[0]],
  ] as const) {
    const h = socket.handshake;
    assert.equal(socket.id, client.id);
    assert.deepEqual(h.auth, { name: client.name });
    assert.equal(h.query.q, "1");
    assert.equal(h.query.EIO, "4");
    assert.equal(h.query.transport, "websocket");
    assert.equal(h.secure, false);
    assert.equal(h.xdomain, false);
    assert.match(h.address, /127\.0\.0\.1$/);
    assert.match(h.url, /^\/socket\.io\/\?/);
    assert.equal(typeof h.headers.host, "string");
    assert.ok(Math.abs(Date.now() - h.issued) < 60_000);
    assert.equal(new Date(h.time).getTime(), Math.floor(h.issued / 1000) * 1000);
    assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", `node-${socket.data.node}`].sort());
  }
});
