/**
 * @socket.io/redis-adapter (unchanged, from npm) on Volley nodes against a real Redis:
 * with the `redis` client, with `ioredis`, and the sharded variant (SPUBLISH, Redis 7+),
 * plus @socket.io/redis-emitter from a plain Redis client. Three nodes, two clients each
 * (one WebSocket, one polling), every cluster behaviour checked from every node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { closeRedis, ioRedis, nodeRedis, redisMajorVersion, requireRedis, uniqueName, nodeRedisPair, ioRedisPair } from "./harness/services";
import { startCluster, Teardown } from "./harness/cluster";
import { runClusterChecks, type EmitterLike } from "./harness/checks";
import { T, until } from "../helpers";

test("redis-adapter with the `redis` client: 3 Volley nodes and the redis-emitter", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-redis");
  const { nodes, clients } = await startCluster(teardown, ["volley", "volley", "volley"], async () => {
    const { pub, sub } = await nodeRedisPair(teardown);
    return { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) };
  });
  const emitterClient = await nodeRedis();
  teardown.defer(() => closeRedis(emitterClient));
  const emitter = new Emitter(emitterClient, { key }) as unknown as EmitterLike;
  await runClusterChecks(t, nodes, clients, { emitter });
});

test("redis-adapter with `ioredis`: 3 Volley nodes and the redis-emitter", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-ioredis");
  const { nodes, clients } = await startCluster(teardown, ["volley", "volley", "volley"], async () => {
    const { pub, sub } = await ioRedisPair(teardown);
    return { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000, publishOnSpecificResponseChannel: true }) };
  });
  const emitterClient = await ioRedis();
  teardown.defer(() => closeRedis(emitterClient));
  const emitter = new Emitter(emitterClient, { key }) as unknown as EmitterLike;
  await runClusterChecks(t, nodes, clients, { emitter });
});

test("sharded redis-adapter (SPUBLISH/SSUBSCRIBE), a channel per room: 3 Volley nodes", async (t) => {
  await requireRedis();
  const major = await redisMajorVersion();
  assert.ok(major >= 7, `sharded Pub/Sub needs Redis 7 or later; the server is ${major}`);
  const teardown = new Teardown(t);
  const channelPrefix = uniqueName("volley-sharded");
  const { nodes, clients } = await startCluster(teardown, ["volley", "volley", "volley"], async () => {
    const { pub, sub } = await nodeRedisPair(teardown);
    // "dynamic-private": every room, socket ids included, gets its own channel, the most
    // subscription churn (a channel per room created and deleted in the adapter).
    return { adapter: createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: "dynamic-private" }) };
  });
  const probe = await nodeRedis();
  teardown.defer(() => closeRedis(probe));
  // The adapter subscribes to a room's channel after the join, asynchronously.
  const roomReady = (room: string, count: number) =>
    until(async () => {
      const reply = (await probe.sendCommand(["PUBSUB", "SHARDNUMSUB", `${channelPrefix}#/#${room}#`])) as [string, number];
      return Number(reply[1]) >= count;
    }, T, `subscription to room ${room}`);
  await runClusterChecks(t, nodes, clients, { roomReady });
});
