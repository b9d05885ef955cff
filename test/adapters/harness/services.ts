/**
 * The real services the adapter tests run against (started by `npm run services`).
 * A missing service is a loud failure with the command that fixes it, never a skip.
 */
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { createClient } from "redis";
import { Redis } from "ioredis";
import pg from "pg";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const PG_URL = process.env.PG_URL ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";

function newNodeRedis() {
  return createClient({ url: REDIS_URL });
}
export type NodeRedisClient = ReturnType<typeof newNodeRedis>;

/** A name no other test (or concurrent test file) uses: channels, streams, tables. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Rejects, naming the service and the fix, unless something accepts TCP connections at `url`. */
async function reachable(url: string, service: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const fail = (err: Error) => {
      socket.destroy();
      reject(new Error(`${service} is not reachable at ${hostname}:${port} (${err.message}): run \`npm run services\``));
    };
    socket.setTimeout(2000, () => fail(new Error("timeout")));
    socket.once("error", fail);
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
  });
}

export async function requireRedis(): Promise<void> {
  await reachable(REDIS_URL, "Redis");
}

export async function requirePostgres(): Promise<void> {
  await reachable(PG_URL, "PostgreSQL");
}

/** A connected `redis` (node-redis) client. */
export async function nodeRedis(): Promise<NodeRedisClient> {
  const client = newNodeRedis();
  client.on("error", () => {}); // a closing client may report its socket; the tests check behaviour
  await client.connect();
  return client;
}

/** An `ioredis` client, connected. */
export async function ioRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Where a test registers what to close when it ends (a `Teardown`). */
interface Deferrer {
  defer(step: () => unknown): void;
}

/** A `redis` publisher and its subscriber duplicate, both connected, closed at teardown. */
export async function nodeRedisPair(teardown: Deferrer): Promise<{ pub: NodeRedisClient; sub: NodeRedisClient }> {
  const pub = await nodeRedis();
  const sub = pub.duplicate();
  sub.on("error", () => {});
  await sub.connect();
  teardown.defer(() => Promise.all([closeRedis(pub), closeRedis(sub)]));
  return { pub, sub };
}

/** An `ioredis` publisher and its subscriber duplicate (which connects on its first command), closed at teardown. */
export async function ioRedisPair(teardown: Deferrer): Promise<{ pub: Redis; sub: Redis }> {
  const pub = await ioRedis();
  const sub = pub.duplicate();
  sub.on("error", () => {});
  teardown.defer(() => Promise.all([closeRedis(pub), closeRedis(sub)]));
  return { pub, sub };
}

/** Closes gracefully: commands still in flight (an adapter's last UNSUBSCRIBE) get their answer first. */
export async function closeRedis(client: NodeRedisClient | Redis): Promise<void> {
  if (client instanceof Redis) {
    if (client.status === "ready") await client.quit().catch(() => client.disconnect());
    else client.disconnect();
    return;
  }
  if (client.isOpen) await client.close();
}

/** The major version of the Redis server (sharded Pub/Sub needs 7). */
export async function redisMajorVersion(): Promise<number> {
  const client = await nodeRedis();
  try {
    const info = await client.info("server");
    const match = /redis_version:(\d+)/.exec(info);
    return match ? Number(match[1]) : 0;
  } finally {
    await closeRedis(client);
  }
}

export function pgPool(max = 6): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max });
  pool.on("error", () => {}); // idle clients killed at teardown
  return pool;
}

/** The table @socket.io/postgres-adapter stores large or binary payloads in. */
export async function createAttachmentsTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`,
  );
}

export async function dropTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
}
