// Redis cluster benchmark: a broadcast across three nodes through @socket.io/redis-adapter,
// three Volley nodes (dist/) against three official socket.io nodes, same run.
//
//   npm run bench:cluster                     # build, then 3 repetitions (~1 min; needs Redis: npm run services)
//   node bench/redis-cluster.mjs --quick      # smoke run: 1 repetition, smaller burst (needs dist/)
//   node bench/redis-cluster.mjs --reps 5 --clients 600 --messages 3000
//   node bench/redis-cluster.mjs --wait-idle 120   # shared machine: wait for idle, redo disturbed runs
//
// Each run forks three fresh nodes of one kind (bench/redis-cluster-node.mjs), each its own
// process, on fresh Redis channels; this process is the load generator: `--clients` raw
// WebSocket clients (the `ws` package speaking Engine.IO v4 / Socket.IO v5), spread evenly
// over the nodes. Node 0 then calls io.emit() of a ~100-byte event `--messages` times;
// node 0 writes to its own clients and publishes to Redis, the two other nodes receive it
// from Redis and write to theirs. The run ends when every client has every message.
// The order of the two kinds alternates per repetition. See bench/README.md.
import { fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import WebSocket from "ws";
import { waitForIdle, within } from "./engine-load.mjs";

const require = createRequire(import.meta.url);
const { createClient } = require("redis");

const here = path.dirname(fileURLToPath(import.meta.url));
const IMPLS = ["volley", "official"];
const LABEL = { volley: "volley", official: "socket.io" };
const NODES = 3;
const HOST = "127.0.0.1";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
// The event's text: with the sequence number, a `42["m",1234,"..."]` frame of ~100 bytes.
const TEXT = "the quick brown fox jumps over the lazy dog, cluster broadcast benchmark #0123456789";
/** Machine CPU % outside the nodes, Redis and the load generator above which a run is flagged. */
const DISTURBED_PCT = 25;
/** With --wait-idle: tries per run before a disturbed result is kept anyway. */
const MAX_ATTEMPTS = 3;
const FRAME_PREFIX = [0x34, 0x32]; // "42": Socket.IO EVENT in an Engine.IO message

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = { quick: false, reps: 3, clients: 300, messages: 2000, warmup: 200, batch: 100, waitIdle: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--quick") opts.quick = true;
    else if (arg === "--reps") opts.reps = Math.ceil(positive(value(), arg, 100));
    else if (arg === "--clients") opts.clients = Math.ceil(positive(value(), arg, 10_000));
    else if (arg === "--messages") opts.messages = Math.ceil(positive(value(), arg, 1_000_000));
    else if (arg === "--batch") opts.batch = Math.ceil(positive(value(), arg, 100_000));
    else if (arg === "--wait-idle") opts.waitIdle = positive(value(), arg, 3600);
    else if (arg === "--help" || arg === "-h") {
      console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(2, 8).join("\n").replace(/^\/\/ ?/gm, ""));
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (opts.quick) {
    if (!argv.includes("--reps")) opts.reps = 1;
    if (!argv.includes("--messages")) opts.messages = 500;
    opts.warmup = 50;
  }
  return opts;
}

function positive(text, name, max) {
  const n = Number(text);
  if (!(n > 0) || n > max) throw new Error(`${name} must be a positive number up to ${max} (got ${text})`);
  return n;
}

// ---------------------------------------------------------------- CPU accounting

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** Busy CPU µs of the whole machine so far (Linux /proc/stat), or undefined elsewhere. */
function machineBusyUs() {
  try {
    const f = readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_US; // all but idle and iowait
  } catch {
    return undefined;
  }
}

/** CPU µs used so far by process `pid` (Linux /proc/<pid>/stat), or undefined. */
function processCpuUs(pid) {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_US; // utime + stime
  } catch {
    return undefined;
  }
}

/** The Redis server's pid, when it runs on this machine (for its CPU share). */
async function redisPid() {
  const client = createClient({ url: REDIS_URL });
  let lastError;
  client.on("error", (err) => (lastError = err));
  try {
    await within(client.connect(), 3000, "connecting to Redis");
  } catch (err) {
    client.destroy();
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${lastError?.message ?? err.message}): run \`npm run services\``, { cause: err });
  }
  try {
    const info = await client.info("server");
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    const local = ["127.0.0.1", "localhost"].includes(new URL(REDIS_URL).hostname);
    return local && processCpuUs(pid) !== undefined ? pid : undefined;
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- node processes

const children = new Set();

/** Forks one node and resolves with a handle once it listens. */
async function startNode(impl, key, index) {
  const child = fork(path.join(here, "redis-cluster-node.mjs"), [impl, key, REDIS_URL], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));

  let nextId = 0;
  const pending = new Map();
  child.on("message", (msg) => {
    const settle = pending.get(msg?.id);
    if (!settle) return;
    pending.delete(msg.id);
    if (msg.error) settle.reject(new Error(`${impl} node ${index}: ${msg.error}`));
    else settle.resolve(msg);
  });
  const failAll = (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  child.on("error", failAll);
  child.once("exit", (code, signal) => failAll(new Error(`${impl} node ${index} exited (${code ?? signal})`)));

  const ask = (cmd, extra, ms = 15_000) =>
    within(
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`${impl} node ${index} is gone (asked ${cmd})`));
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        child.send({ ...extra, id, cmd });
      }),
      ms,
      `${impl} node ${index} answering ${cmd}`,
    );

  const port = await within(
    new Promise((resolve, reject) => {
      child.on("message", (msg) => msg?.ready && resolve(msg.port));
      child.once("exit", (code) => reject(new Error(`${impl} node ${index} exited early (${code})`)));
    }),
    15_000,
    `${impl} node ${index} start`,
  );

  return {
    impl,
    index,
    port,
    serverCount: async () => (await ask("server-count")).count,
    clients: async () => (await ask("clients")).count,
    cpuMark: async () => {
      const { cpu } = await ask("cpu-mark");
      return cpu.user + cpu.system;
    },
    emit: async (n, batch) => (await ask("emit", { n, batch, text: TEXT }, 120_000)).emitMs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ cmd: "exit" });
      try {
        await within(exited, 10_000, `${impl} node ${index} exit`);
      } catch {
        child.kill("SIGKILL");
      }
    },
  };
}

function killChildren() {
  for (const child of children) child.kill("SIGKILL");
}

/** Polls until every node counts all three (the adapters subscribe asynchronously). */
async function waitForServerCount(nodes) {
  await within(
    (async () => {
      for (;;) {
        const counts = await Promise.all(nodes.map((n) => n.serverCount()));
        if (counts.every((c) => c === nodes.length)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
    10_000,
    `every node counting ${nodes.length} servers`,
  );
}

// ---------------------------------------------------------------- clients

/**
 * A raw Socket.IO client over WebSocket: waits for the Engine.IO open packet, sends the
 * CONNECT packet for "/", resolves on its acknowledgement. Afterwards it counts the EVENT
 * frames it receives and answers pings. `onEvent(client)` is called after each count.
 */
function openClient(port, nodeIndex, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    const client = { ws, node: nodeIndex, count: 0, bad: 0 };
    let state = "opening";
    const timer = setTimeout(() => fail(new Error("Socket.IO handshake timed out")), 10_000);
    const fail = (err) => {
      clearTimeout(timer);
      if (state === "connected") return;
      state = "failed";
      ws.terminate();
      reject(err);
    };
    ws.on("error", fail);
    ws.on("close", () => fail(new Error("closed during the handshake")));
    ws.on("message", (data) => {
      if (state === "connected") {
        if (data[0] === FRAME_PREFIX[0] && data[1] === FRAME_PREFIX[1]) {
          client.count++;
          onEvent(client);
        } else if (data[0] === 0x32) ws.send("3"); // ping → pong
        else client.bad++;
        return;
      }
      const text = String(data);
      if (state === "opening" && text[0] === "0") {
        state = "connecting";
        ws.send("40");
      } else if (state === "connecting" && text.startsWith("40")) {
        state = "connected";
        clearTimeout(timer);
        resolve(client);
      } else if (text !== "2") {
        fail(new Error(`unexpected frame during the handshake: ${text.slice(0, 60)}`));
      }
    });
  });
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` at once. */
async function pool(total, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

async function closeClients(clients) {
  const closed = clients.map(
    ({ ws }) =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", resolve);
        ws.close();
      }),
  );
  try {
    await within(Promise.all(closed), 10_000, "closing clients");
  } finally {
    for (const { ws } of clients) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

// ---------------------------------------------------------------- one run

/** Three fresh nodes of `impl`, the clients, a warm-up burst, then the measured burst. */
async function run(impl, opts, runId, redis) {
  const key = `volley-bench-${process.pid}-${runId}`;
  const nodes = [];
  const clients = [];
  try {
    for (let i = 0; i < NODES; i++) nodes.push(await startNode(impl, key, i));
    await waitForServerCount(nodes);

    // Completion tracking: how many clients (per node) hold `target` messages, and when.
    let target = 0;
    let doneTotal = 0;
    const doneByNode = new Array(NODES).fill(0);
    const lastByNode = new Array(NODES).fill(0);
    const perNode = new Array(NODES).fill(0);
    let allDone = () => {};
    const onEvent = (client) => {
      if (client.count !== target) return;
      doneTotal++;
      if (++doneByNode[client.node] === perNode[client.node]) lastByNode[client.node] = performance.now();
      if (doneTotal === clients.length) allDone();
    };
    await pool(opts.clients, 50, async (i) => {
      const node = i % NODES;
      perNode[node]++;
      clients.push(await openClient(nodes[node].port, node, onEvent));
    });
    const counts = await Promise.all(nodes.map((n) => n.clients()));
    if (counts.some((c, i) => c !== perNode[i])) throw new Error(`clients per node ${counts} (expected ${perNode})`);

    /** Emits `n` from node 0 and resolves once every client has them all. */
    const burst = async (n) => {
      target += n;
      doneTotal = 0;
      doneByNode.fill(0);
      const everyone = new Promise((resolve) => (allDone = resolve));
      const emitMs = await nodes[0].emit(n, opts.batch);
      await within(everyone, 120_000, `${n} messages reaching ${clients.length} clients`);
      return emitMs;
    };
    await burst(opts.warmup);

    // The measurement window.
    await Promise.all(nodes.map((n) => n.cpuMark()));
    const client0 = process.cpuUsage();
    const machine0 = machineBusyUs();
    const redis0 = processCpuUs(redis);
    const t0 = performance.now();
    const emitMs = await burst(opts.messages);
    const t1 = performance.now();
    const machineUs = machine0 === undefined ? undefined : machineBusyUs() - machine0;
    const redisUs = redis0 === undefined ? undefined : processCpuUs(redis) - redis0;
    const c = process.cpuUsage(client0);
    const clientUs = c.user + c.system;
    const nodeUs = await Promise.all(nodes.map((n) => n.cpuMark()));

    // Nothing duplicated or stray: a short, bounded wait for late frames.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const wrong = clients.filter((cl) => cl.count !== target || cl.bad > 0);
    if (wrong.length > 0) throw new Error(`${wrong.length} clients got the wrong frames (e.g. ${wrong[0].count} events, ${wrong[0].bad} stray; expected ${target})`);

    const elapsedUs = (t1 - t0) * 1e3;
    const deliveries = opts.messages * clients.length;
    const serversUs = nodeUs.reduce((a, b) => a + b, 0);
    const pct = (us) => (us === undefined ? undefined : (us / elapsedUs) * 100);
    return {
      deliveriesPerSec: (deliveries / elapsedUs) * 1e6,
      burstMs: t1 - t0,
      localDoneMs: lastByNode[0] - t0,
      remoteDoneMs: Math.max(...lastByNode.slice(1)) - t0,
      emitMs,
      serverUsPerDelivery: serversUs / deliveries,
      emittingNodeCpuMs: nodeUs[0] / 1e3,
      receivingNodesCpuMs: (nodeUs[1] + nodeUs[2]) / 2e3,
      redisCpuPct: pct(redisUs),
      clientCpuPct: pct(clientUs),
      otherCpuPct: machineUs === undefined ? undefined : pct(Math.max(0, machineUs - serversUs - clientUs - (redisUs ?? 0))),
      deliveries,
    };
  } finally {
    await closeClients(clients);
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

// ---------------------------------------------------------------- statistics and output

const FIGURES = [
  ["deliveriesPerSec", "deliveries/s", "higher"],
  ["burstMs", "end-to-end: emit start → last client has all, ms", "lower"],
  ["localDoneMs", "emitting node's clients done, ms", "lower"],
  ["remoteDoneMs", "other nodes' clients done, ms", "lower"],
  ["emitMs", "emit loop on node 0, ms", "lower"],
  ["serverUsPerDelivery", "server CPU µs/delivery (3 nodes)", "lower"],
  ["emittingNodeCpuMs", "emitting node CPU ms", "lower"],
  ["receivingNodesCpuMs", "receiving node CPU ms (mean of 2)", "lower"],
  ["redisCpuPct", "Redis CPU %", "info"],
  ["clientCpuPct", "load generator CPU %", "info"],
  ["otherCpuPct", "other CPU % (disturbance)", "info"],
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x) {
  if (x === undefined) return "n/a";
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function summary(xs) {
  return `${fmt(median(xs))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]`;
}

function table(figures) {
  const rows = [
    "| figure | volley (median [min–max]) | socket.io (median [min–max]) | ratio volley/socket.io |",
    "| --- | --- | --- | --- |",
  ];
  for (const f of figures) {
    if (f.volley.length === 0 || f.official.length === 0) continue;
    const hint = f.better === "higher" ? " ↑" : f.better === "lower" ? " ↓" : "";
    const ratio = f.better === "info" ? "–" : f.ratio.length ? `${median(f.ratio).toFixed(2)}×` : "n/a";
    rows.push(`| ${f.label}${hint} | ${summary(f.volley)} | ${summary(f.official)} | ${ratio} |`);
  }
  return rows.join("\n");
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    loadavgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

function packageVersion(name) {
  return JSON.parse(readFileSync(path.join(here, "..", "node_modules", name, "package.json"), "utf8")).version;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const redis = await redisPid();
  console.log(`Redis cluster benchmark: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, load average ${machine.loadavgAtStart.join(" ")}`);
  console.log(
    `reps=${opts.reps}, ${NODES} nodes of one kind at a time, ${opts.clients} WebSocket clients, ` +
      `io.emit() of ~100 B from node 0 × ${opts.messages} (${opts.batch} per turn, after ${opts.warmup} to warm up)${opts.quick ? " (quick)" : ""}\n`,
  );

  const runs = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    const order = rep % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) {
      // With --wait-idle, a disturbed run is redone (a bounded number of times).
      const attempts = opts.waitIdle > 0 ? MAX_ATTEMPTS : 1;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (opts.waitIdle > 0) {
          const busy = await waitForIdle(opts.waitIdle * 1000);
          if (busy !== undefined && busy >= 15) console.log(`  note: machine still ${fmt(busy)}% busy after waiting ${opts.waitIdle} s`);
        }
        const result = await within(run(impl, opts, `${rep}-${impl}-${attempt}`, redis), 300_000, `${impl} run ${rep + 1}`);
        const disturbed = result.otherCpuPct > DISTURBED_PCT;
        console.log(
          `rep ${rep + 1}/${opts.reps} ${LABEL[impl].padEnd(9)} ${fmt(result.deliveriesPerSec).padStart(9)} deliveries/s  ` +
            `end-to-end ${fmt(result.burstMs)} ms  CPU load generator ${fmt(result.clientCpuPct)}% Redis ${fmt(result.redisCpuPct)}% other ${fmt(result.otherCpuPct)}%`,
        );
        if (disturbed) console.log(`  warning: ${fmt(result.otherCpuPct)}% of the machine's CPU went elsewhere during this run; the machine is not idle`);
        if (!disturbed || attempt === attempts) {
          runs.push({ rep, impl, attempt, disturbed, result });
          break;
        }
        console.log("  redoing this run");
      }
    }
  }

  const figures = [];
  for (const [key, label, better] of FIGURES) {
    const of = (impl, rep) => runs.find((r) => r.impl === impl && r.rep === rep)?.result[key];
    const f = { key, label, better, volley: [], official: [], ratio: [] };
    for (let rep = 0; rep < opts.reps; rep++) {
      const v = of("volley", rep);
      const o = of("official", rep);
      if (v !== undefined) f.volley.push(v);
      if (o !== undefined) f.official.push(o);
      if (v !== undefined && o !== undefined && o !== 0) f.ratio.push(v / o);
    }
    figures.push(f);
  }

  const md = table(figures);
  console.log(`\n${md}\n`);
  console.log("↑ higher is better, ↓ lower is better; the ratio is the median of the per-repetition ratios.");
  const disturbed = runs.filter((r) => r.disturbed).length;
  if (disturbed > 0) console.log(`warning: ${disturbed} run(s) were disturbed by other load (other CPU > ${DISTURBED_PCT}%); rerun on an idle machine${opts.waitIdle ? "" : " or with --wait-idle"}`);

  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "Z");
  const dir = path.join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `redis-cluster-${stamp}.json`);
  const packages = {
    volley: JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8")).version,
    "socket.io": packageVersion("socket.io"),
    "@socket.io/redis-adapter": packageVersion("@socket.io/redis-adapter"),
    redis: packageVersion("redis"),
  };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, packages, options: opts, nodes: NODES, disturbedRuns: disturbed, figures, runs, table: md }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}

process.on("SIGINT", () => {
  killChildren();
  process.exit(130);
});
process.on("exit", killChildren);

main().then(
  () => setTimeout(() => process.exit(0), 100).unref(),
  (err) => {
    console.error(err);
    killChildren();
    process.exit(1);
  },
);
