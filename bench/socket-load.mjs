// Lean Socket.IO v5 load generators for bench/socket.mjs. No socket.io-client and no `ws`
// client: raw WebSocket (bench/raw-ws.mjs) and HTTP/1.1 (bench/raw-http.mjs) clients on
// node:net speak Engine.IO v4 + Socket.IO v5 directly and check frames by their bytes, so the
// client side costs as little as possible and the server is what gets measured.
//
// Every scenario takes a `server` handle (see bench/socket.mjs: cpuMark, mem, waitClients,
// broadcast, optional profileStart/Stop) and returns plain numbers. All waits are bounded.
import { setTimeout as sleep } from "node:timers/promises";
import { openWindow, pool, within } from "./engine-load.mjs";
import { RawHttp } from "./raw-http.mjs";
import { closeAll, connectRaw, maskedBinaryFrame } from "./raw-ws.mjs";

const HOST = "127.0.0.1";
const PATH = "/socket.io/";
const ECHO_TEXT = "hello from the socket benchmark #0123456789"; // 43 bytes, a typical small message
const ECHO_ARGS = `["echo",${JSON.stringify(ECHO_TEXT)}]`;
const ECHO_REPLY = `[${JSON.stringify(ECHO_TEXT)}]`; // what follows `43<id>`
/** ~100 B broadcast payload; the frame on the wire is `42["bc","<payload>"]`. */
export const BROADCAST_PAYLOAD = "broadcast payload ".padEnd(89, "0123456789");
const BROADCAST_FRAME_LENGTH = Buffer.byteLength(`42["bc",${JSON.stringify(BROADCAST_PAYLOAD)}]`);
const BINARY_PLACEHOLDER = '{"_placeholder":true,"num":0}';

const CH_2 = 0x32;
const CH_3 = 0x33;
const CH_4 = 0x34;
const CH_6 = 0x36;
const SEP = "\x1e";

/** Reads the decimal ack id at `at` in a frame; returns [id, index after it], id -1 if none. */
function readId(data, at) {
  let id = -1;
  let i = at;
  for (; i < data.length; i++) {
    const c = data[i];
    if (c < 0x30 || c > 0x39) break;
    id = (id < 0 ? 0 : id * 10) + (c - 0x30);
  }
  return [id, i];
}

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resolves once the server has at most `n` sessions left (the server answers when it happens). */
async function waitForClients(server, n) {
  const { clientsCount } = await server.waitClients(n);
  if (clientsCount > n) throw new Error(`server still has ${clientsCount} clients, expected ${n}`);
}

// ---------------------------------------------------------------- connect

/**
 * Opens `total` sockets (`concurrency` at a time) up to the server's CONNECT, keeps them
 * open to weigh the server after GC, then closes them. A warm-up round runs first.
 */
export async function connect(server, { port, total, concurrency, warmup }) {
  const sockets = [];
  try {
    const warm = [];
    await pool(warmup, concurrency, async () => warm.push(await connectRaw(port, PATH)));
    await closeAll(warm);
    await waitForClients(server, 0);

    const before = await server.mem();
    const close = await openWindow(server, "connect");
    await pool(total, concurrency, async () => sockets.push(await connectRaw(port, PATH)));
    const w = await close();
    const after = await server.mem();
    if (after.clientsCount !== total) throw new Error(`server counts ${after.clientsCount} clients, expected ${total}`);
    return {
      connsPerSec: (total / w.elapsedUs) * 1e6,
      serverUsPerConn: w.serverUs / total,
      heapPerConn: (after.mem.heapUsed - before.mem.heapUsed) / total,
      rssPerConn: (after.mem.rss - before.mem.rss) / total,
      externalPerConn: (after.mem.external - before.mem.external) / total,
      rssBefore: before.mem.rss,
      rssAfter: after.mem.rss,
      heapAfter: after.mem.heapUsed,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
    };
  } finally {
    await closeAll(sockets);
  }
}

// ---------------------------------------------------------------- idle connections

/**
 * `total` idle sockets joined to "/" (the connect scenario, larger): the server's RSS and heap
 * with them after GC, per connection, and a projection to 100 000 connections (the process
 * as measured before the sockets, plus 100 000 times the RSS per connection).
 */
export async function idle(server, params) {
  const r = await connect(server, params);
  return {
    rssMB: r.rssAfter / 2 ** 20,
    heapMB: r.heapAfter / 2 ** 20,
    rssPerConn: r.rssPerConn,
    heapPerConn: r.heapPerConn,
    projected100kMB: (r.rssBefore + 100_000 * r.rssPerConn) / 2 ** 20,
  };
}

// ---------------------------------------------------------------- echo with acks

/**
 * Each of `clients` sockets keeps `inflight` acked `echo` events outstanding: a new one goes
 * out when an ack comes back. Latency is per round trip (send to ack), in the window only.
 */
export async function echo(server, { port, clients, inflight, warmupMs, durationMs }) {
  const RING = 1024; // send times by id % RING; far more than `inflight`
  const maxSamples = 5_000_000;
  const latencies = new Float64Array(maxSamples);
  let samples = 0;
  let counting = false;
  let stopped = false;
  let count = 0;
  let bad = 0;
  const sockets = [];

  const sendEcho = (peer) => {
    const id = peer.nextId++;
    peer.sent[id % RING] = performance.now();
    peer.sendText(`42${id}${ECHO_ARGS}`);
  };
  // Expect `43<id>["hello..."]`.
  const onFrame = (peer, opcode, data) => {
    if (opcode !== 0x1 || data[0] !== CH_4 || data[1] !== CH_3) return void bad++;
    const [id, at] = readId(data, 2);
    if (id < 0 || data.length - at !== ECHO_REPLY.length) return void bad++;
    if (counting) {
      count++;
      if (samples < maxSamples) latencies[samples++] = performance.now() - peer.sent[id % RING];
    }
    if (!stopped) sendEcho(peer);
  };

  try {
    const peers = [];
    await pool(clients, clients, async () => {
      const peer = await connectRaw(port, PATH, { onFrame });
      sockets.push(peer);
      peer.nextId = 0;
      peer.sent = new Float64Array(RING);
      peers.push(peer);
    });
    for (const peer of peers) for (let i = 0; i < inflight; i++) sendEcho(peer);

    await sleep(warmupMs);
    const close = await openWindow(server, "echo");
    count = 0;
    samples = 0;
    counting = true;
    await sleep(durationMs);
    counting = false;
    const n = count;
    const w = await close();
    stopped = true;
    if (bad > 0) throw new Error(`${bad} unexpected frames in the echo`);
    if (n === 0) throw new Error("no ack came back");
    const sorted = latencies.subarray(0, samples).sort();
    return {
      roundTripsPerSec: (n / w.elapsedUs) * 1e6,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      serverUsPerOp: w.serverUs / n,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
      roundTrips: n,
    };
  } finally {
    stopped = true;
    await closeAll(sockets);
  }
}

// ---------------------------------------------------------------- broadcast

/**
 * `clients` sockets (every other one in the room "half") receive broadcasts that the server
 * emits on IPC request. Each window counts deliveries until all have arrived:
 *   emit:  io.emit, `broadcasts` times, one per event-loop turn
 *   room:  io.to("half").emit, the same
 *   burst: io.emit, `burst` emits per turn, `broadcasts` emits in all
 * deliveries/s is the expected count over the time from the request to the last delivery.
 */
export async function broadcast(server, { port, clients, concurrency, broadcasts, burst, warmup }) {
  let count = 0;
  let expected = Infinity;
  let bad = 0;
  let arrived;
  // `42["bc","..."]` in a text frame.
  const onFrame = (_peer, opcode, data) => {
    if (opcode !== 0x1 || data.length !== BROADCAST_FRAME_LENGTH || data[0] !== CH_4 || data[1] !== CH_2) return void bad++;
    if (++count === expected) arrived?.();
  };
  const sockets = [];

  /** One broadcast round; resolves with the window's figures. */
  const round = async (window, target, turns, perTurn, recipients) => {
    count = 0;
    expected = turns * perTurn * recipients;
    const all = new Promise((resolve) => (arrived = resolve));
    const close = window ? await openWindow(server, window) : undefined;
    const t0 = process.hrtime.bigint();
    const { ms: emitMs } = await server.broadcast({ target, turns, perTurn, payload: BROADCAST_PAYLOAD });
    await within(all, 60_000, `${expected} deliveries (${count} arrived)`);
    const elapsedUs = Number(process.hrtime.bigint() - t0) / 1e3;
    if (bad > 0) throw new Error(`${bad} unexpected frames in the broadcast`);
    if (!close) return undefined;
    const w = await close();
    return {
      deliveriesPerSec: (expected / elapsedUs) * 1e6,
      serverUsPerDelivery: w.serverUs / expected,
      emitMs,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
    };
  };

  try {
    await pool(clients, concurrency, async (i) => {
      sockets.push(await connectRaw(port, PATH, { auth: i % 2 === 0 ? { half: 1 } : undefined, onFrame }));
    });
    const half = Math.ceil(clients / 2);
    // Warm-up: every path a few times, unmeasured.
    await round(undefined, "all", warmup, 1, clients);
    await round(undefined, "room", warmup, 1, half);
    await round(undefined, "all", Math.max(1, Math.round(warmup / burst)), burst, clients);

    const emit = await round("bc-emit", "all", broadcasts, 1, clients);
    const room = await round("bc-room", "room", broadcasts, 1, half);
    const bursts = await round("bc-burst", "all", Math.max(1, Math.round(broadcasts / burst)), burst, clients);
    const out = {};
    for (const [prefix, r] of [["emit", emit], ["room", room], ["burst", bursts]]) {
      out[`${prefix}DeliveriesPerSec`] = r.deliveriesPerSec;
      out[`${prefix}ServerUsPerDelivery`] = r.serverUsPerDelivery;
      out[`${prefix}EmitMs`] = r.emitMs;
      out[`${prefix}ServerCpuPct`] = r.serverCpuPct;
      out[`${prefix}ClientCpuPct`] = r.clientCpuPct;
    }
    // The run's disturbance and CPU figures are the worst of its windows.
    out.otherCpuPct = Math.max(emit.otherCpuPct ?? 0, room.otherCpuPct ?? 0, bursts.otherCpuPct ?? 0);
    out.clientCpuPct = Math.max(emit.clientCpuPct, room.clientCpuPct, bursts.clientCpuPct);
    out.serverCpuPct = Math.max(emit.serverCpuPct, room.serverCpuPct, bursts.serverCpuPct);
    return out;
  } finally {
    arrived = undefined;
    await closeAll(sockets);
  }
}

// ---------------------------------------------------------------- binary

/**
 * Each of `clients` sockets echoes a `size`-byte buffer with an ack, `inflight` at a time:
 * BINARY_EVENT `451-<id>["echo",{placeholder}]` + one binary frame, answered by BINARY_ACK
 * `461-<id>[{placeholder}]` + one binary frame. MB/s counts each echoed buffer once.
 */
export async function binary(server, { port, clients, inflight, size, warmupMs, durationMs }) {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = i & 0xff;
  // The attachment goes out as a frame built once, masked with a real (non-zero) key, so the
  // servers pay for unmasking as they would with a browser, and the client pays nothing.
  const frame = maskedBinaryFrame(payload, Buffer.from([0x5a, 0xc3, 0x1e, 0x77]));
  const replyTail = `[${BINARY_PLACEHOLDER}]`;
  let counting = false;
  let stopped = false;
  let count = 0;
  let bad = 0;
  const sockets = [];

  const sendOne = (peer) => {
    peer.sendText(`451-${peer.nextId++}["echo",${BINARY_PLACEHOLDER}]`);
    peer.sendFrame(frame);
  };
  const onFrame = (peer, opcode, data) => {
    if (opcode === 0x1) {
      // `461-<id>[{placeholder}]`
      if (peer.awaiting || data[0] !== CH_4 || data[1] !== CH_6 || data[2] !== 0x31 || data[3] !== 0x2d) return void bad++;
      const [id, at] = readId(data, 4);
      if (id < 0 || data.length - at !== replyTail.length) return void bad++;
      peer.awaiting = true;
      return;
    }
    if (opcode !== 0x2 || !peer.awaiting || data.length !== size || data[1] !== 1 || data[size - 1] !== ((size - 1) & 0xff)) return void bad++;
    peer.awaiting = false;
    if (counting) count++;
    if (!stopped) sendOne(peer);
  };

  try {
    const peers = [];
    await pool(clients, clients, async () => {
      const peer = await connectRaw(port, PATH, { onFrame });
      sockets.push(peer);
      peer.nextId = 0;
      peer.awaiting = false;
      peers.push(peer);
    });
    for (const peer of peers) for (let i = 0; i < inflight; i++) sendOne(peer);

    await sleep(warmupMs);
    const close = await openWindow(server, "binary");
    count = 0;
    counting = true;
    await sleep(durationMs);
    counting = false;
    const n = count;
    const w = await close();
    stopped = true;
    if (bad > 0) throw new Error(`${bad} unexpected frames in the binary echo`);
    if (n === 0) throw new Error("no binary ack came back");
    return {
      mbPerSec: (n * size) / w.elapsedUs, // bytes/µs = MB/s
      serverUsPerRoundTrip: w.serverUs / n,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
      roundTrips: n,
    };
  } finally {
    stopped = true;
    await closeAll(sockets);
  }
}

// ---------------------------------------------------------------- polling

/**
 * Each of `clients` polling-only sessions joins "/" and then loops: one POST with an acked
 * `echo` event, long-poll GETs until the ack is back (one event in flight per client).
 */
export async function polling(server, { port, clients, warmupMs, durationMs }) {
  let counting = false;
  let stopped = false;
  let count = 0;
  const deadline = Date.now() + warmupMs + durationMs + 30_000;
  // Two keep-alive connections per client: a waiting GET and a POST.
  const connections = [];

  const client = async () => {
    const getConn = new RawHttp(HOST, port);
    const postConn = new RawHttp(HOST, port);
    connections.push(getConn, postConn);
    const ok = async (conn, method, path, body) => {
      const res = await conn.request(method, path, body);
      if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 80)}`);
      return res.body;
    };
    const open = await ok(getConn, "GET", `${PATH}?EIO=4&transport=polling`);
    if (!open.startsWith("0{")) throw new Error(`bad polling handshake: ${open.slice(0, 60)}`);
    const { sid } = JSON.parse(open.slice(1));
    const path = `${PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    let pong = false;
    /** Long-polls until `want(packet)` is true for one packet; pings are answered on the next POST. */
    const pollFor = async (want) => {
      let found = 0;
      while (found === 0 && Date.now() < deadline) {
        const payload = await ok(getConn, "GET", path);
        for (const packet of payload.split(SEP)) {
          if (want(packet)) found++;
          else if (packet === "2") pong = true;
          else if (packet !== "6") throw new Error(`unexpected polling packet: ${packet.slice(0, 60)}`);
        }
      }
      if (found !== 1) throw new Error(`expected one answer, got ${found}`);
    };
    const post = async (body) => {
      const text = pong ? `3${SEP}${body}` : body;
      pong = false;
      const answer = await ok(postConn, "POST", path, text);
      if (answer !== "ok") throw new Error(`POST was answered ${answer.slice(0, 40)}`);
    };

    const joining = post("40");
    await pollFor((p) => p.startsWith('40{"sid":'));
    await joining;

    let id = 0;
    while (!stopped && Date.now() < deadline) {
      const sent = post(`42${id}${ECHO_ARGS}`);
      const expect = `43${id}${ECHO_REPLY}`;
      await pollFor((p) => p === expect);
      await sent;
      id++;
      if (counting) count++;
    }
    return { path, postConn };
  };

  const loops = Array.from({ length: clients }, client);
  let failure;
  const failed = new Promise((_, reject) => {
    for (const loop of loops) loop.catch((err) => reject((failure ??= err)));
  });
  failed.catch(() => {});
  const measure = async () => {
    await sleep(warmupMs);
    const close = await openWindow(server, "polling");
    count = 0;
    counting = true;
    await sleep(durationMs);
    counting = false;
    const n = count;
    return { ...(await close()), n };
  };
  try {
    const m = await Promise.race([measure(), failed]);
    stopped = true;
    const ends = await within(Promise.race([Promise.all(loops), failed]), 20_000, "polling clients stopping");
    // Close every session (Engine.IO close packet), so the server is idle afterwards.
    await within(Promise.all(ends.map(({ path, postConn }) => postConn.request("POST", path, "1").catch(() => {}))), 10_000, "polling close");
    if (m.n === 0) throw new Error("no polling round trip completed");
    return {
      roundTripsPerSec: (m.n / m.elapsedUs) * 1e6,
      serverUsPerRoundTrip: m.serverUs / m.n,
      serverCpuPct: m.serverCpuPct,
      clientCpuPct: m.clientCpuPct,
      otherCpuPct: m.otherCpuPct,
      roundTrips: m.n,
    };
  } finally {
    stopped = true;
    for (const c of connections) c.close();
  }
}
