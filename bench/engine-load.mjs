// Lean Engine.IO v4 load generators for bench/engine.mjs. No engine.io-client: the `ws`
// package and node:http speak the wire protocol directly, so the client side costs as
// little as possible and the server is what gets measured.
//
// Every scenario takes a `server` handle with `cpuMark()` (server CPU µs since the last
// mark), `mem()`, `waitClients(n)` and optional `profileStart/Stop(window)`, and returns
// plain numbers. All waits are bounded.
import { readFileSync } from "node:fs";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";

const HOST = "127.0.0.1";
const PAYLOAD = "hello from the engine benchmark #0123456789"; // 43 bytes, a typical small message
const WS_MESSAGE = Buffer.from(`4${PAYLOAD}`); // text frame: message packet
const ECHO_LENGTH = WS_MESSAGE.length;
const CH_OPEN = 0x30; // "0"
const CH_PING = 0x32; // "2"
const CH_MESSAGE = 0x34; // "4"
const SEP = "\x1e";

/** Rejects with `what` if `promise` has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Busy CPU µs of the whole machine so far (Linux /proc/stat), or undefined elsewhere. */
function machineBusyUs() {
  try {
    const line = readFileSync("/proc/stat", "latin1").slice(0, 200).split("\n")[0];
    // cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const ticks = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return ticks * (1e6 / 100); // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Waits (at most `maxMs`) until the machine's busy CPU over one second is below `pct` %.
 * Resolves with the last busy share, or undefined where /proc/stat is missing.
 */
export async function waitForIdle(maxMs, pct = 15) {
  const end = Date.now() + maxMs;
  const total = () => {
    const f = readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return f.reduce((a, b) => a + b, 0);
  };
  for (;;) {
    const b0 = machineBusyUs();
    if (b0 === undefined) return undefined;
    const t0 = total();
    await sleep(1000);
    const share = ((machineBusyUs() - b0) / ((total() - t0) * 1e4)) * 100;
    if (share < pct || Date.now() >= end) return share;
  }
}

/**
 * A measurement window: elapsed time, this process's CPU, the server's CPU (`cpuMark`
 * over IPC) and the machine's busy CPU. `otherCpuPct` is machine CPU not spent by the
 * server or the load generator (kernel softirq, other processes, hypervisor steal); a
 * large value means the run was disturbed.
 */
export async function openWindow(server, name) {
  await server.profileStart?.(name);
  await server.cpuMark();
  const client = process.cpuUsage();
  const machine = machineBusyUs();
  const t0 = process.hrtime.bigint();
  return async () => {
    const elapsedUs = Number(process.hrtime.bigint() - t0) / 1e3;
    const c = process.cpuUsage(client);
    const clientUs = c.user + c.system;
    const machineUs = machine === undefined ? undefined : machineBusyUs() - machine;
    const serverUs = await server.cpuMark();
    await server.profileStop?.(name);
    const pct = (us) => (us / elapsedUs) * 100;
    return {
      elapsedUs,
      clientUs,
      serverUs,
      serverCpuPct: pct(serverUs),
      clientCpuPct: pct(clientUs),
      otherCpuPct: machineUs === undefined ? undefined : pct(Math.max(0, machineUs - serverUs - clientUs)),
    };
  };
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` at once. */
export async function pool(total, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

// ---------------------------------------------------------------- WebSocket

/**
 * Opens one session straight over WebSocket and resolves once the open packet arrived.
 * Afterwards `onMessage(data)` gets every frame except pings, which are answered here.
 */
function openWs(port, onMessage) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/engine.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
    });
    let opened = false;
    const timer = setTimeout(() => fail(new Error("WebSocket handshake timed out")), 10_000);
    const fail = (err) => {
      clearTimeout(timer);
      if (opened) return;
      opened = true; // settle once
      ws.terminate();
      reject(err);
    };
    ws.on("error", fail);
    ws.on("close", () => fail(new Error("closed before the open packet")));
    ws.on("message", (data) => {
      const type = data[0];
      if (!opened) {
        if (type !== CH_OPEN) return fail(new Error(`expected an open packet, got ${String(data).slice(0, 40)}`));
        opened = true;
        clearTimeout(timer);
        resolve(ws);
        return;
      }
      if (type === CH_PING) ws.send("3");
      else onMessage?.(data);
    });
  });
}

/**
 * Sends a text frame, corking the socket's TCP stream until the end of the current turn:
 * echoes that arrive together are answered with one write instead of one syscall each.
 * A loopback write is most of a small client's CPU, and the client must not be the
 * bottleneck. `ws` has no public cork, so this reaches for its `_socket` when present.
 */
const corked = [];
function sendCorked(ws, frame) {
  const raw = ws._socket;
  if (raw && !raw.writableCorked) {
    raw.cork();
    if (corked.push(raw) === 1) process.nextTick(uncorkAll);
  }
  ws.send(frame, { binary: false });
}
function uncorkAll() {
  const list = corked.splice(0);
  for (const raw of list) while (raw.writableCorked) raw.uncork();
}

/** Closes every socket and waits (bounded) for their close events. */
async function closeAll(sockets, ms = 10_000) {
  const closed = sockets.map(
    (ws) =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", resolve);
        ws.close();
      }),
  );
  try {
    await within(Promise.all(closed), ms, "closing WebSocket clients");
  } finally {
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

/** Scenario 1: each of `clients` sockets keeps `inflight` echoes outstanding. */
export async function wsEcho(server, { port, clients, inflight, warmupMs, durationMs }) {
  let counting = false;
  let stopped = false;
  let count = 0;
  let bad = 0;
  const sockets = [];
  try {
    await pool(clients, clients, async () => {
      let ws;
      ws = await openWs(port, (data) => {
        if (data[0] !== CH_MESSAGE || data.length !== ECHO_LENGTH) bad++;
        if (counting) count++;
        if (!stopped) sendCorked(ws, WS_MESSAGE);
      });
      sockets.push(ws);
    });
    for (const ws of sockets) for (let i = 0; i < inflight; i++) sendCorked(ws, WS_MESSAGE);

    await sleep(warmupMs);
    const close = await openWindow(server, inflight === 1 ? "ws1" : "ws");
    count = 0;
    counting = true;
    await sleep(durationMs);
    counting = false;
    const n = count;
    const w = await close();
    stopped = true;
    if (bad > 0) throw new Error(`${bad} unexpected frames in the WebSocket echo`);
    if (n === 0) throw new Error("no WebSocket echo came back");
    return {
      msgsPerSec: (n / w.elapsedUs) * 1e6,
      serverUsPerMsg: w.serverUs / n,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
      messages: n,
    };
  } finally {
    stopped = true;
    await closeAll(sockets);
  }
}

// ---------------------------------------------------------------- polling

/** One HTTP request on `agent`; resolves with the response body as text. */
function request(agent, port, method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "Content-Type": "text/plain;charset=UTF-8", "Content-Length": Buffer.byteLength(body) };
    const req = http.request({ agent, host: HOST, port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`));
        else resolve(text);
      });
      res.on("error", reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Scenario 2: each client runs a loop of one POST carrying a message and long-poll GETs
 * until the echo is back; one message in flight per client.
 */
export async function pollingEcho(server, { port, clients, warmupMs, durationMs }) {
  // One socket per in-flight request: a waiting GET and a POST per client.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 * clients, noDelay: true });
  let counting = false;
  let stopped = false;
  let count = 0;
  const deadline = Date.now() + warmupMs + durationMs + 30_000;

  const client = async () => {
    const open = await request(agent, port, "GET", "/engine.io/?EIO=4&transport=polling");
    if (!open.startsWith("0{")) throw new Error(`bad polling handshake: ${open.slice(0, 60)}`);
    const { sid } = JSON.parse(open.slice(1));
    const path = `/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    let pong = false;
    while (!stopped && Date.now() < deadline) {
      const post = request(agent, port, "POST", path, pong ? `3${SEP}4${PAYLOAD}` : `4${PAYLOAD}`);
      pong = false;
      let echoes = 0;
      while (echoes === 0 && Date.now() < deadline) {
        const payload = await request(agent, port, "GET", path);
        for (const packet of payload.split(SEP)) {
          if (packet === `4${PAYLOAD}`) echoes++;
          else if (packet === "2") pong = true;
          else if (packet !== "6") throw new Error(`unexpected polling packet: ${packet.slice(0, 60)}`);
        }
      }
      if ((await post) !== "ok") throw new Error("POST was not answered ok");
      if (echoes !== 1) throw new Error(`expected one echo, got ${echoes}`);
      if (counting) count++;
    }
    return path;
  };

  const loops = Array.from({ length: clients }, client);
  // Surface a failing client at once instead of after the measurement.
  let failure;
  const failed = new Promise((_, reject) => {
    for (const loop of loops) loop.catch((err) => reject((failure ??= err)));
  });
  failed.catch(() => {});
  const measure = async () => {
    await sleep(warmupMs);
    const close = await openWindow(server, "poll");
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
    const paths = await within(Promise.race([Promise.all(loops), failed]), 20_000, "polling clients stopping");
    // Close every session (close packet), so the server is idle for the next run.
    await within(Promise.all(paths.map((p) => request(agent, port, "POST", p, "1").catch(() => {}))), 10_000, "polling close");
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
    agent.destroy();
  }
}

// ---------------------------------------------------------------- connections

/**
 * Scenario 3: opens `total` WebSocket sessions, `concurrency` handshakes at a time, keeps
 * them open to weigh the server's memory after GC, then closes them all.
 */
export async function connections(server, { port, total, concurrency, warmup }) {
  const sockets = [];
  try {
    // Warm-up: the same path a few times so that JIT and pools are hot.
    const warm = [];
    await pool(warmup, concurrency, async () => warm.push(await openWs(port)));
    await closeAll(warm);
    await waitForClients(server, 0);

    const before = await server.mem();
    const close = await openWindow(server, "handshake");
    await pool(total, concurrency, async () => sockets.push(await openWs(port)));
    const w = await close();

    const after = await server.mem();
    if (after.clientsCount !== total) throw new Error(`server counts ${after.clientsCount} clients, expected ${total}`);

    const closing = await openWindow(server, "close");
    await closeAll(sockets.splice(0));
    await waitForClients(server, 0);
    const c = await closing();

    return {
      connsPerSec: (total / w.elapsedUs) * 1e6,
      serverUsPerConn: w.serverUs / total,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
      heapPerConn: (after.mem.heapUsed - before.mem.heapUsed) / total,
      rssPerConn: (after.mem.rss - before.mem.rss) / total,
      externalPerConn: (after.mem.external - before.mem.external) / total,
      closesPerSec: (total / c.elapsedUs) * 1e6,
      serverUsPerClose: c.serverUs / total,
    };
  } finally {
    await closeAll(sockets);
  }
}

/** Resolves once the server has at most `n` sessions left (the server answers when it happens). */
async function waitForClients(server, n) {
  const { clientsCount } = await server.waitClients(n);
  if (clientsCount > n) throw new Error(`server still has ${clientsCount} clients, expected ${n}`);
}
