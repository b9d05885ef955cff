/**
 * @socket.io/redis-streams-adapter (unchanged, from npm) against a real Redis: every
 * cluster behaviour on three Volley nodes and on a cluster mixed with official socket.io
 * nodes, and connection state recovery across nodes: a client whose connection drops
 * while on one node comes back through a load balancer on another node, with its id,
 * rooms, data and exactly the events it missed, Volley and socket.io in both directions.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { T, once, within, quiet, until } from "../helpers";
import { closeRedis, nodeRedis, requireRedis, uniqueName, type NodeRedisClient } from "./harness/services";
import { startCluster, Teardown, waitForServerCount } from "./harness/cluster";
import { runClusterChecks, warmUp } from "./harness/checks";
import { startNode, type Kind, type LocalNode, type Target } from "./harness/node";
import { TestClient } from "./harness/clients";
import { TcpProxy } from "./harness/proxy";

/** Names no other test uses; a short XREAD block so that a closed adapter stops polling soon. */
function streamOptions() {
  return {
    streamName: uniqueName("volley-stream"),
    channelPrefix: uniqueName("volley-streams"),
    sessionKeyPrefix: uniqueName("volley-session") + ":",
    blockTimeInMs: 100,
  };
}

async function checkCluster(t: TestContext, kinds: Kind[]): Promise<void> {
  await requireRedis();
  const teardown = new Teardown(t);
  const options = streamOptions();
  await dropStreamAtTheEnd(teardown, options.streamName);
  const { nodes, clients } = await startCluster(teardown, kinds, async () => {
    const client = await nodeRedis();
    teardown.defer(() => closeRedis(client));
    return { adapter: createAdapter(client, options) };
  });
  await warmUp(nodes, clients);
  await runClusterChecks(t, nodes, clients);
}

/** The stream outlives the adapters: delete it once the nodes are closed. */
async function dropStreamAtTheEnd(teardown: Teardown, streamName: string): Promise<void> {
  const client = await nodeRedis();
  teardown.defer(() => closeRedis(client));
  teardown.defer(() => client.del(streamName));
}

test("redis-streams-adapter: 3 Volley nodes", (t) => checkCluster(t, ["volley", "volley", "volley"]));

test("redis-streams-adapter: socket.io, Volley, socket.io nodes", (t) => checkCluster(t, ["official", "volley", "official"]));


const portOf = (node: LocalNode) => Number(new URL(node.url).port);

async function recoveryAcross(t: TestContext, from: Kind, to: Kind): Promise<void> {
  await requireRedis();
  const teardown = new Teardown(t);
  const options = streamOptions();
  const probe: NodeRedisClient = await nodeRedis();
  teardown.defer(() => closeRedis(probe));
  teardown.defer(async () => {
    // The stream, and a session stored when the teardown cut the client's connection.
    const sessions = await probe.keys(options.sessionKeyPrefix + "*");
    await probe.del([options.streamName, ...sessions]);
  });
  const start = async (kind: Kind, index: number) => {
    const client = await nodeRedis();
    teardown.defer(() => closeRedis(client));
    const node = await startNode(kind, index, {
      adapter: createAdapter(client, options),
      connectionStateRecovery: { maxDisconnectionDuration: 60_000 },
    });
    teardown.defer(() => node.close());
    return node;
  };
  const first = await start(from, 0);
  const second = await start(to, 1);
  await waitForServerCount([first, second], 2);
  const proxy = await TcpProxy.start(portOf(first));
  teardown.defer(() => proxy.close());
  const client = new TestClient("c0a", proxy.url, { transports: ["websocket"] });
  teardown.defer(() => client.close());
  await client.connected();
  assert.equal(client.socket.recovered, false);
  // Until the first node reads the stream, it would miss what the second one adds.
  await warmUp([second], [client]);

  const streamLength = () => probe.xLen(options.streamName);
  /** Emits from `node` and waits until the event is in the stream (XADD is asynchronous). */
  const emit = async (node: LocalNode, target: Target, event: string, args: unknown[]) => {
    const before = await streamLength();
    await node.emit(target, event, args);
    await until(async () => (await streamLength()) > before, T, `${event} in the stream`);
  };

  const before = first.sockets.get("c0a")!;
  const sid = before.id;
  await before.join("kept-room");
  before.data = { ...before.data, extra: "kept" };
  // An event from the other node: the client now holds an offset (its last argument).
  await emit(second, {}, "offset", [0]);
  await within(client.waitFor("offset"), T, "first event");
  const [offsetArgs] = client.received.get("offset")!;
  assert.equal(offsetArgs[0], 0);
  assert.match(String(offsetArgs[1]), /^\d+-\d+$/, "a stream entry id as offset");

  // The balancer loses the connection and now sends clients to the other node.
  const serverGone = once<[string]>(before, "disconnect");
  proxy.target = portOf(second);
  proxy.cut();
  const [reason] = await within(serverGone, T, "server-side disconnect");
  assert.equal(reason, "transport close");
  await within(client.waitFor("disconnect"), T, "client-side disconnect");
  assert.deepEqual(client.disconnects, ["transport close"]);
  await until(async () => (await probe.keys(options.sessionKeyPrefix + "*")).length === 1, T, "session stored");

  // Missed while away, from both nodes: three reach it, two do not.
  await emit(second, {}, "missed-1", [1]);
  await emit(first, { rooms: ["kept-room"] }, "missed-2", [2, { b: Buffer.from([7]) }]);
  await emit(second, { except: ["kept-room"] }, "not-for-it", []);
  await emit(first, { rooms: ["elsewhere"] }, "not-for-it-either", []);
  await emit(second, { rooms: [sid] }, "missed-3", [3]);

  client.socket.connect();
  await client.connected();
  assert.equal(client.socket.recovered, true, "client sees a recovered session");
  assert.equal(client.id, sid);
  const after = second.sockets.get("c0a")!;
  assert.equal(after.recovered, true);
  assert.equal(after.id, sid);
  assert.ok(after.rooms.has("kept-room"), "rooms restored");
  assert.deepEqual(after.data, { name: "c0a", node: 0, extra: "kept" });

  await within(client.waitFor("missed-3"), T, "missed events");
  const strip = (event: string) => client.received.get(event)![0].slice(0, -1);
  assert.deepEqual(strip("missed-1"), [1]);
  assert.deepEqual(strip("missed-2"), [2, { b: Buffer.from([7]) }]);
  assert.deepEqual(strip("missed-3"), [3]);
  await warmUp([first], [client]);
  await emit(first, {}, "live", ["after"]);
  await within(client.waitFor("live"), T, "live event after recovery");
  await quiet(100);
  const order = client.order.filter((event) => !event.startsWith("warm-up-"));
  assert.deepEqual(order, ["offset", "missed-1", "missed-2", "missed-3", "live"], "each once, in order, nothing else");
}

test("connection state recovery across nodes: Volley → Volley", (t) => recoveryAcross(t, "volley", "volley"));
test("connection state recovery across nodes: socket.io → Volley", (t) => recoveryAcross(t, "official", "volley"));
test("connection state recovery across nodes: Volley → socket.io", (t) => recoveryAcross(t, "volley", "official"));
