/**
 * @socket.io/postgres-adapter (unchanged, from npm) against a real PostgreSQL
 * (LISTEN/NOTIFY, with the attachments table for binary and large payloads): every
 * cluster behaviour on three Volley nodes and on a cluster mixed with official socket.io
 * nodes; and @socket.io/postgres-emitter from a plain pg pool.
 *
 * The emitter (0.1.1) publishes messages without the `nsp` field that postgres-adapter
 * 0.4+ routes on, so those versions drop them, on official socket.io nodes as well.
 * The emitter is therefore checked with postgres-adapter 0.3.1, the last release that
 * accepts its messages (installed as `socket.io-postgres-adapter-v03`).
 */
import { test, type TestContext } from "node:test";
import { createAdapter } from "@socket.io/postgres-adapter";
import { createAdapter as createAdapterV03 } from "socket.io-postgres-adapter-v03";
import { Emitter } from "@socket.io/postgres-emitter";
import type pg from "pg";
import { createAttachmentsTable, dropTable, pgPool, requirePostgres, uniqueName } from "./harness/services";
import { startCluster, Teardown } from "./harness/cluster";
import { runClusterChecks, type EmitterLike } from "./harness/checks";
import type { Kind } from "./harness/node";
import type { ServerOptions } from "../../src/index";

interface Names {
  channelPrefix: string;
  tableName: string;
}

type AdapterFor = (pool: pg.Pool, names: Names) => Partial<ServerOptions>["adapter"];

// Frequent heartbeats: the nodes find each other (serverCount) in a few hundred ms.
const latest: AdapterFor = (pool, names) => createAdapter(pool, { ...names, heartbeatInterval: 100, heartbeatTimeout: 3000 });
const v03: AdapterFor = (pool, names) => createAdapterV03(pool, { ...names, heartbeatInterval: 100, heartbeatTimeout: 3000 });

async function checkCluster(t: TestContext, kinds: Kind[], adapterFor: AdapterFor, withEmitter: boolean): Promise<void> {
  await requirePostgres();
  const teardown = new Teardown(t);
  const names = { channelPrefix: uniqueName("volley_pg"), tableName: uniqueName("volley_attachments") };
  const admin = pgPool(2);
  teardown.defer(() => admin.end());
  await createAttachmentsTable(admin, names.tableName);
  teardown.defer(() => dropTable(admin, names.tableName));
  const { nodes, clients } = await startCluster(teardown, kinds, async () => {
    const pool = pgPool();
    teardown.defer(() => pool.end());
    return { adapter: adapterFor(pool, names) };
  });
  let emitter: EmitterLike | undefined;
  if (withEmitter) {
    const emitterPool = pgPool(2);
    teardown.defer(() => emitterPool.end());
    emitter = new Emitter(emitterPool, "/", names) as unknown as EmitterLike;
  }
  await runClusterChecks(t, nodes, clients, { emitter });
}

test("postgres-adapter: 3 Volley nodes", (t) => checkCluster(t, ["volley", "volley", "volley"], latest, false));

test("postgres-adapter: Volley, socket.io, Volley nodes", (t) => checkCluster(t, ["volley", "official", "volley"], latest, false));

test("postgres-adapter 0.3.1 and the postgres-emitter: socket.io, Volley, Volley nodes", (t) =>
  checkCluster(t, ["official", "volley", "volley"], v03, true));
