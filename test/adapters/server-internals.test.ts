/**
 * The server internals that the npm adapters reach into, each through a real adapter,
 * with exact bytes where the wire matters: socket.io-adapter's in-memory Adapter (the base
 * class of every npm adapter) drives `client.writeToEngine` with `preEncoded`, `volatile`,
 * `compress` and a `wsPreEncodedFrame` built by `ws`'s Sender.frame (an ARRAY of Buffers),
 * `socket.acks` with ids from `nsp._ids`, and `notifyOutgoingListeners`; the Redis adapter
 * uses `server.encoder` (a custom parser) and may be set after the server started.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Socket as NetSocket } from "node:net";
import { Adapter as SioAdapter } from "socket.io-adapter";
import { createAdapter } from "@socket.io/redis-adapter";
import * as msgpackParser from "socket.io-msgpack-parser";
import type { Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { T, once, within } from "../helpers";
import { RawWebSocket, request, type Frame } from "../engine/raw-util";
import { requireRedis, uniqueName, nodeRedisPair } from "./harness/services";
import { startCluster, Teardown, waitForServerCount } from "./harness/cluster";
import { LocalNode } from "./harness/node";
import { TestClient } from "./harness/clients";

const WS_PATH = "/socket.io/?EIO=4&transport=websocket";

interface Fixture extends IoFixture {
  teardown: Teardown;
}

async function start(t: TestContext): Promise<Fixture> {
  const teardown = new Teardown(t);
  const fx = await startIo({ adapter: SioAdapter, serveClient: false });
  teardown.defer(() => fx.close());
  return { ...fx, teardown };
}

/** A Socket.IO session over a hand-driven WebSocket, connected to "/". */
async function rawClient(fx: Fixture): Promise<{ ws: RawWebSocket; socket: Socket }> {
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "connection");
  const ws = await RawWebSocket.open(fx.port, WS_PATH);
  // Before the server closes: a raw peer never answers the closing handshake.
  fx.teardown.defer(() => ws.destroy());
  assert.equal(ws.status, 101);
  assert.match(text(await ws.next()), /^0\{"sid":/);
  ws.sendText("40");
  const [socket] = await connection;
  assert.equal(text(await ws.next()), `40{"sid":"${socket.id}"}`);
  return { ws, socket };
}

function text(frame: Frame | undefined): string {
  assert.ok(frame, "a frame");
  assert.equal(frame.fin, true);
  assert.equal(frame.opcode, 1, "text frame");
  return frame.payload.toString("utf8");
}

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Records the options the adapter passes to `client.writeToEngine` for this socket. */
function recordWriteOptions(socket: Socket): any[] {
  const seen: any[] = [];
  const client = socket.client as any;
  const write = client.writeToEngine.bind(client);
  client.writeToEngine = (packets: unknown, opts: any) => {
    seen.push(opts);
    write(packets, opts);
  };
  return seen;
}

/** Records the chunks written to the TCP socket under the WebSocket (ws keeps it as `_socket`). */
function recordTcpWrites(socket: Socket): Buffer[] {
  const raw = (socket.conn.transport as any).socket._socket as NetSocket;
  const chunks: Buffer[] = [];
  const write = raw.write.bind(raw) as (...args: any[]) => boolean;
  (raw as any).write = (chunk: Buffer, ...rest: any[]) => {
    chunks.push(chunk);
    return write(chunk, ...rest);
  };
  return chunks;
}

test("a broadcast's pre-built WebSocket frame (an array of Buffers from ws) reaches each client exactly, shared, not copied", async (t) => {
  const fx = await start(t);
  const a = await rawClient(fx);
  const b = await rawClient(fx);
  const options = [recordWriteOptions(a.socket), recordWriteOptions(b.socket)];
  const tcp = [recordTcpWrites(a.socket), recordTcpWrites(b.socket)];
  const big = "y".repeat(70_000) + "é";
  // Same event-loop turn: one flush per client carries both frames.
  fx.io.emit("small", "x");
  fx.io.emit("big", big);
  for (const { ws } of [a, b]) {
    assert.equal(text(await ws.next()), '42["small","x"]');
    assert.equal(text(await ws.next()), `42["big","${big}"]`);
  }
  for (const seen of options) {
    assert.equal(seen.length, 2);
    for (const opts of seen) {
      assert.equal(opts.preEncoded, true);
      assert.ok(Array.isArray(opts.wsPreEncodedFrame), "ws's Sender.frame gives [header, payload]");
      assert.ok(opts.wsPreEncodedFrame.every((part: unknown) => Buffer.isBuffer(part)));
    }
  }
  // The large payload buffer went to both TCP sockets as the same object.
  const shared = tcp[0].filter((chunk) => chunk.length > 70_000 && tcp[1].includes(chunk));
  assert.equal(shared.length, 1);
});

test("a binary broadcast through the npm adapter: a text frame, then the attachment as a binary frame", async (t) => {
  const fx = await start(t);
  const { ws } = await rawClient(fx);
  fx.io.emit("bin", Buffer.from([1, 2, 3]), "tail");
  assert.equal(text(await ws.next()), '451-["bin",{"_placeholder":true,"num":0},"tail"]');
  const attachment = await ws.next();
  assert.deepEqual(attachment, { fin: true, opcode: 2, payload: Buffer.from([1, 2, 3]) });
});

test("volatile through the npm adapter: dropped for a polling client without a pending request, sent over WebSocket", async (t) => {
  const fx = await start(t);
  const { ws } = await rawClient(fx);
  const open = await request(fx.port, "/socket.io/?EIO=4&transport=polling");
  const sid = (JSON.parse(open.text.slice(1)) as { sid: string }).sid;
  const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "polling connection");
  assert.equal((await request(fx.port, path, { method: "POST", body: "40" })).text, "ok");
  const [socket] = await connection;
  assert.equal((await request(fx.port, path)).text, `40{"sid":"${socket.id}"}`);
  // No GET pending now: the polling transport is not writable.
  fx.io.volatile.emit("dropped");
  fx.io.emit("kept", 1);
  assert.equal((await request(fx.port, path)).text, '42["kept",1]');
  assert.equal(text(await ws.next()), '42["dropped"]');
  assert.equal(text(await ws.next()), '42["kept",1]');
});

test("client.writeToEngine takes a list of encoded packets, or one alone as the official server does", async (t) => {
  const fx = await start(t);
  const { ws, socket } = await rawClient(fx);
  socket.client.writeToEngine('2["one"]', { compress: false });
  socket.client.writeToEngine(['51-["two",{"_placeholder":true,"num":0}]', Buffer.from([9])], { preEncoded: true });
  assert.equal(text(await ws.next()), '42["one"]');
  assert.equal(text(await ws.next()), '451-["two",{"_placeholder":true,"num":0}]');
  assert.deepEqual(await ws.next(), { fin: true, opcode: 2, payload: Buffer.from([9]) });
});

test("acknowledgement ids: a socket's emit and a broadcast through the npm adapter draw distinct ids from nsp._ids", async (t) => {
  const fx = await start(t);
  const { ws, socket } = await rawClient(fx);
  const single = new Promise((resolve) => socket.emit("q1", (answer: unknown) => resolve(answer)));
  const broadcast = new Promise((resolve) => fx.io.timeout(2000).emit("q2", (err: Error | null, answers: unknown[]) => resolve([err, answers])));
  const first = /^42(\d+)\["q1"\]$/.exec(text(await ws.next()));
  const second = /^42(\d+)\["q2"\]$/.exec(text(await ws.next()));
  assert.ok(first && second);
  assert.notEqual(first[1], second[1]);
  assert.ok(socket.acks.has(Number(first[1])) && socket.acks.has(Number(second[1])), "both pending in socket.acks");
  ws.sendText(`43${second[1]}["for q2"]`);
  ws.sendText(`43${first[1]}["for q1"]`);
  assert.equal(await within(single, T, "socket ack"), "for q1");
  assert.deepEqual(await within(broadcast, T, "broadcast ack"), [null, ["for q2"]]);
  assert.equal(socket.acks.size, 0);
});

test("broadcasts through the npm adapter reach the sockets' onAnyOutgoing listeners (notifyOutgoingListeners)", async (t) => {
  const fx = await start(t);
  const a = await rawClient(fx);
  const b = await rawClient(fx);
  const seen: unknown[][] = [];
  a.socket.onAnyOutgoing((...args: unknown[]) => seen.push(args));
  fx.io.emit("o", 1);
  fx.io.to(a.socket.id).emit("p");
  fx.io.to(b.socket.id).emit("not-a");
  assert.equal(text(await a.ws.next()), '42["o",1]');
  assert.equal(text(await a.ws.next()), '42["p"]');
  assert.deepEqual(seen, [["o", 1], ["p"]]);
});

test("redis-adapter uses server.encoder (msgpack parser), and io.adapter() may set it after the server started", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-encoder");
  const adapterFor = async () => {
    const { pub, sub } = await nodeRedisPair(teardown);
    return createAdapter(pub, sub, { key, requestsTimeout: 3000 });
  };
  const fx0 = await startIo({ parser: msgpackParser, adapter: await adapterFor(), serveClient: false });
  teardown.defer(() => fx0.close());
  const fx1 = await startIo({ parser: msgpackParser, serveClient: false });
  teardown.defer(() => fx1.close());
  fx1.io.adapter(await adapterFor());
  const nodes = [new LocalNode(0, "volley", fx0.io, fx0.url), new LocalNode(1, "volley", fx1.io, fx1.url)];
  await waitForServerCount(nodes, 2);
  const clients = [fx0.url, fx1.url].map((url, i) => new TestClient(`n${i}a`, url, { parser: msgpackParser, transports: ["websocket"] }));
  teardown.defer(() => clients.forEach((c) => c.close()));
  await Promise.all(clients.map((c) => c.connected()));
  await nodes[0].emit({}, "from-0", [{ n: 0 }, Buffer.from([1])]);
  await nodes[1].emit({ rooms: ["node-0"] }, "from-1", [1]);
  await within(Promise.all([clients[0].waitFor("from-0"), clients[1].waitFor("from-0"), clients[0].waitFor("from-1")]), T, "broadcasts");
  assert.deepEqual(clients[1].received.get("from-0"), [[{ n: 0 }, Buffer.from([1])]]);
  assert.deepEqual(clients[0].received.get("from-1"), [[1]]);
  assert.deepEqual((await nodes[1].fetchSockets({})).map((s) => s.name).sort(), ["n0a", "n1a"]);
});

test("broadcast flags cross nodes: compress(false) and volatile reach the remote node's writeToEngine", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-flags");
  const { nodes, clients } = await startCluster(teardown, ["volley", "volley"], () => redisAdapter(teardown, key), {
    perNode: 1,
    clientOptions: { transports: ["websocket"] },
  });
  const remote = nodes[1].sockets.get("n1a")!;
  const written: Array<{ packet: string; opts: any }> = [];
  const client = remote.client as any;
  const write = client.writeToEngine.bind(client);
  client.writeToEngine = (packets: string[], opts: any) => {
    written.push({ packet: packets[0], opts });
    write(packets, opts);
  };
  nodes[0].io.compress(false).emit("uncompressed");
  await within(clients[1].waitFor("uncompressed"), T, "remote delivery");
  // Not in the same turn: a volatile packet is dropped while another waits to be written
  // (upstream socket.ts "should not emit volatile event after regular event (ws)").
  nodes[0].io.volatile.emit("volatile");
  await within(clients[1].waitFor("volatile"), T, "remote volatile delivery");
  const byEvent = new Map(written.map((w) => [JSON.parse(w.packet.slice(1))[0] as string, w.opts]));
  assert.equal(byEvent.get("uncompressed").compress, false);
  assert.equal(byEvent.get("uncompressed").preEncoded, true);
  assert.equal(byEvent.get("volatile").volatile, true);
});

test("serverSideEmitWithAck timing out: the error carries the responses that arrived, from Volley as from socket.io", async (t) => {
  await requireRedis();
  const teardown = new Teardown(t);
  const key = uniqueName("volley-sse-timeout");
  const { nodes } = await startCluster(teardown, ["volley", "official", "volley"], () => redisAdapter(teardown, key, 300), { perNode: 1 });
  // Node 2 hears the event but never answers.
  nodes[2].io.on("slow" as any, () => {});
  for (const [origin, answering] of [
    [0, 1],
    [1, 0],
  ]) {
    nodes[answering].io.removeAllListeners("slow" as any);
    nodes[answering].io.on("slow" as any, (ack: (answer: string) => void) => ack(`from ${answering}`));
    const settled: Promise<Error & { responses?: unknown }> = (nodes[origin].io as any).serverSideEmitWithAck("slow").then(
      () => assert.fail("should time out"),
      (err: Error & { responses?: unknown }) => err,
    );
    const error = await within(settled, T, "serverSideEmitWithAck");
    assert.equal(error.message, "timeout reached: only 1 responses received out of 2", `origin ${origin}`);
    assert.deepEqual(error.responses, [`from ${answering}`], `origin ${origin}`);
  }
});

async function redisAdapter(teardown: Teardown, key: string, requestsTimeout = 3000) {
  const { pub, sub } = await nodeRedisPair(teardown);
  return { adapter: createAdapter(pub, sub, { key, requestsTimeout }) };
}
