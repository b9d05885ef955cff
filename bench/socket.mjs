// Socket benchmark: the official socket.io 4.8, Volley (dist/) and a bare-`ws` floor server,
// in the same run, taking turns.
//
//   npm run bench:socket                    # build, then 3 repetitions of every scenario
//   node bench/socket.mjs --quick           # smoke run: 1 repetition, short windows, fewer clients
//   node bench/socket.mjs --reps 5 --duration 6 --only echo,broadcast
//   node bench/socket.mjs --wait-idle 300   # shared machine: wait for idle, redo disturbed runs
//   node bench/socket.mjs --pin             # servers on CPU 0, load generator on CPU 1 (taskset)
//   node bench/socket.mjs --profile volley --only echo   # CPU profiles of the server's windows
//   node bench/socket.mjs --impls volley,floor            # some servers only
//   node bench/socket.mjs --bufferutil-all                # let socket.io's ws use bufferutil too
//
// Each measurement forks a fresh server (bench/socket-server.mjs or bench/floor-server.mjs)
// and runs it alone; this process is the load generator (bench/socket-load.mjs). The order of
// the servers rotates per repetition. See bench/README.md for what the figures mean.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { forkServer, killServers, pinTo } from "./server-process.mjs";
import { waitForIdle, within } from "./engine-load.mjs";
import { binary, broadcast, connect, echo, idle, polling } from "./socket-load.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const IMPLS = ["volley", "socket.io", "floor"];
/** Machine CPU % outside server and load generator above which a run is flagged. */
const DISTURBED_PCT = 25;
/** With --wait-idle: tries per measurement before a disturbed result is kept anyway. */
const MAX_ATTEMPTS = 3;
/** Load generator CPU % above which a throughput figure may measure the client, not the server. */
const CLIENT_BOUND_PCT = 90;

// ---------------------------------------------------------------- scenarios and figures

/**
 * Figures: [key, label, better, bar]. `better` is "higher", "lower" or "info"; `bar` is the
 * issue-6 bar on the ratio volley/socket.io (">=" or "<=" a number), when there is one.
 */
const SCENARIOS = {
  connect: {
    title: "connect",
    run: connect,
    figures: [
      ["connsPerSec", "connect: connections/s", "higher", [">=", 1.3]],
      ["serverUsPerConn", "connect: server CPU µs/connection", "lower"],
      ["rssPerConn", "connect: server RSS bytes/connection", "lower", ["<=", 0.6]],
      ["heapPerConn", "connect: server heap bytes/connection", "lower", ["<=", 0.45]],
      ["externalPerConn", "connect: server external bytes/connection", "info"],
      ["serverCpuPct", "connect: server CPU %", "info"],
      ["clientCpuPct", "connect: load generator CPU %", "info"],
      ["otherCpuPct", "connect: other CPU % (disturbance)", "info"],
    ],
  },
  idle: {
    title: "10k idle",
    run: idle,
    figures: [
      ["rssMB", "idle 10k: server RSS MB", "lower"],
      ["heapMB", "idle 10k: server heap MB", "lower"],
      ["rssPerConn", "idle 10k: server RSS bytes/connection", "lower"],
      ["heapPerConn", "idle 10k: server heap bytes/connection", "lower"],
      ["projected100kMB", "idle: RSS MB projected to 100k connections", "lower"],
    ],
  },
  echo: {
    title: "echo with acks",
    run: echo,
    figures: [
      ["roundTripsPerSec", "echo: round trips/s", "higher", [">=", 2.5]],
      ["p50Ms", "echo: p50 latency ms", "lower"],
      ["p99Ms", "echo: p99 latency ms", "lower"],
      ["serverUsPerOp", "echo: server CPU µs/op", "lower", ["<=", 0.4]],
      ["serverCpuPct", "echo: server CPU %", "info"],
      ["clientCpuPct", "echo: load generator CPU %", "info"],
      ["otherCpuPct", "echo: other CPU % (disturbance)", "info"],
    ],
  },
  broadcast: {
    title: "broadcast",
    run: broadcast,
    figures: [
      ["emitDeliveriesPerSec", "broadcast io.emit: deliveries/s", "higher"],
      ["emitServerUsPerDelivery", "broadcast io.emit: server CPU µs/delivery", "lower", ["<=", 0.75]],
      ["roomDeliveriesPerSec", "broadcast to room: deliveries/s", "higher"],
      ["roomServerUsPerDelivery", "broadcast to room: server CPU µs/delivery", "lower"],
      ["burstDeliveriesPerSec", "broadcast burst: deliveries/s", "higher", [">=", 5]],
      ["burstServerUsPerDelivery", "broadcast burst: server CPU µs/delivery", "lower"],
      ["emitEmitMs", "broadcast io.emit: server emit loop ms", "info"],
      ["burstEmitMs", "broadcast burst: server emit loop ms", "info"],
      ["emitClientCpuPct", "broadcast io.emit: load generator CPU %", "info"],
      ["roomClientCpuPct", "broadcast to room: load generator CPU %", "info"],
      ["burstClientCpuPct", "broadcast burst: load generator CPU %", "info"],
      ["serverCpuPct", "broadcast: server CPU % (max of windows)", "info"],
      ["otherCpuPct", "broadcast: other CPU % (disturbance, max)", "info"],
    ],
  },
  binary: {
    title: "binary echo",
    run: binary,
    figures: [
      ["mbPerSec", "binary: MB/s", "higher", [">=", 1.1]],
      ["serverUsPerRoundTrip", "binary: server CPU µs/round trip", "lower"],
      ["serverCpuPct", "binary: server CPU %", "info"],
      ["clientCpuPct", "binary: load generator CPU %", "info"],
      ["otherCpuPct", "binary: other CPU % (disturbance)", "info"],
    ],
  },
  polling: {
    title: "polling echo",
    run: polling,
    skip: ["floor"], // the floor speaks WebSocket only
    figures: [
      ["roundTripsPerSec", "polling: round trips/s", "higher", [">=", 1.3]],
      ["serverUsPerRoundTrip", "polling: server CPU µs/round trip", "lower"],
      ["serverCpuPct", "polling: server CPU %", "info"],
      ["clientCpuPct", "polling: load generator CPU %", "info"],
      ["otherCpuPct", "polling: other CPU % (disturbance)", "info"],
    ],
  },
};

function scenarioParams(opts) {
  const durationMs = opts.duration * 1000;
  const warmupMs = opts.quick ? 300 : 1000;
  return {
    connect: { total: opts.quick ? 500 : 2000, concurrency: 50, warmup: opts.quick ? 50 : 200 },
    idle: { total: opts.quick ? 2000 : 10_000, concurrency: 50, warmup: opts.quick ? 50 : 200 },
    echo: { clients: 50, inflight: 10, warmupMs, durationMs },
    broadcast: { clients: opts.quick ? 300 : 1000, concurrency: 50, broadcasts: 200, burst: 10, warmup: 20 },
    binary: { clients: 8, inflight: 1, size: 64 * 1024, warmupMs, durationMs },
    polling: { clients: 50, warmupMs, durationMs },
  };
}

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = { quick: false, reps: 3, duration: 5, only: Object.keys(SCENARIOS), impls: IMPLS, profile: [], waitIdle: 0, pin: false, bufferutilAll: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--quick") opts.quick = true;
    else if (arg === "--reps") opts.reps = Math.ceil(positive(value(), arg));
    else if (arg === "--duration") opts.duration = positive(value(), arg);
    else if (arg === "--only") opts.only = value().split(",");
    else if (arg === "--impls") opts.impls = value().split(",");
    else if (arg === "--profile") opts.profile = value().split(",");
    else if (arg === "--wait-idle") opts.waitIdle = positive(value(), arg);
    else if (arg === "--pin") opts.pin = true;
    else if (arg === "--bufferutil-all") opts.bufferutilAll = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(3, 12).join("\n").replace(/^\/\/ ?/gm, ""));
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  for (const s of opts.only) if (!Object.hasOwn(SCENARIOS, s)) throw new Error(`unknown scenario ${s} (${Object.keys(SCENARIOS).join(", ")})`);
  for (const p of opts.impls) if (!IMPLS.includes(p)) throw new Error(`unknown implementation ${p} (${IMPLS.join(", ")})`);
  for (const p of opts.profile) if (!IMPLS.includes(p)) throw new Error(`unknown implementation ${p} (${IMPLS.join(", ")})`);
  if (opts.quick) {
    if (!argv.includes("--reps")) opts.reps = 1;
    if (!argv.includes("--duration")) opts.duration = 1;
  }
  return opts;
}

function positive(text, name) {
  const n = Number(text);
  if (!(n > 0) || n > 3600) throw new Error(`${name} must be a positive number (got ${text})`);
  return n;
}

// ---------------------------------------------------------------- server processes

/** Forks one server and resolves with a handle once it listens. */
async function startServer(impl, { profile, pin, tag, bufferutilAll, scenario }) {
  const [script, args] = impl === "floor" ? ["floor-server.mjs", ["0"]] : ["socket-server.mjs", [impl, "0"]];
  const server = await forkServer(path.join(here, script), args, {
    name: impl,
    env: serverEnv(impl, bufferutilAll, scenario),
    pin,
    // Profiles cover measurement windows only: bench/results/prof/socket-<impl>-<window>-<tag>.cpuprofile
    profileFile: profile ? (window) => path.join(here, "results", "prof", `socket-${impl}-${window}-${tag}.cpuprofile`) : undefined,
  });
  return { impl, ...server, broadcast: (req) => server.ask("broadcast", req, 60_000) };
}

/**
 * Each server runs as its own package installs it: `ws` uses the native `bufferutil` (XOR
 * unmasking of client frames) when it can load it, and only Volley brings it along (an
 * optional dependency). socket.io does not, so its `ws` is told not to load the copy that
 * Volley's dependency put in node_modules, unless --bufferutil-all.
 *
 * In `binary`, glibc's malloc keeps freed memory instead of giving it back to the kernel at
 * once: otherwise, depending on where other allocations happen to lie, the 64 KiB message
 * buffers come back as fresh pages to fault in, and a server (any of the three) runs at half
 * speed for a whole run. Nothing else changes, and RSS figures are not taken there.
 */
function serverEnv(impl, bufferutilAll, scenario) {
  const env = { ...process.env };
  if (impl === "socket.io" && !bufferutilAll) env.WS_NO_BUFFER_UTIL = "1";
  if (scenario === "binary" && env.MALLOC_TRIM_THRESHOLD_ === undefined) env.MALLOC_TRIM_THRESHOLD_ = String(256 * 1024 * 1024);
  return env;
}

function bufferutilNote(all) {
  try {
    createRequire(import.meta.url).resolve("bufferutil");
  } catch {
    return "not installed (every ws unmasks in JavaScript)";
  }
  return all ? "used by every server (--bufferutil-all)" : "used by Volley and the floor; not by socket.io, which does not depend on it";
}

/** When dist/ was last built (its entry point's modification time). */
function distStamp() {
  try {
    return statSync(path.join(here, "..", "dist", "index.js")).mtime.toISOString();
  } catch {
    return "missing";
  }
}

/** One measurement on a fresh server process. */
async function measure(name, impl, params, opts, tag) {
  const server = await startServer(impl, { profile: opts.profile.includes(impl), pin: opts.pin, tag, bufferutilAll: opts.bufferutilAll, scenario: name });
  try {
    const budget = (params.warmupMs ?? 0) + (params.durationMs ?? 0) + 180_000;
    return await within(SCENARIOS[name].run(server, { port: server.port, ...params }), budget, `${name} scenario on ${impl}`);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- statistics and output

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
  if (xs.length === 0) return "n/a";
  return `${fmt(median(xs))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]`;
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

/** Whether a median ratio meets a bar [op, value]. */
function meets(ratio, [op, value]) {
  return op === ">=" ? ratio >= value : ratio <= value;
}

/** The floor check: within 10 % of the floor, in the figure's better direction. */
function nearFloor(ratio, better) {
  return better === "higher" ? ratio >= 0.9 : ratio <= 1.1;
}

function table(figures) {
  const rows = [
    "| figure | volley | socket.io | floor | volley/socket.io | issue-6 bar | volley/floor (bar: within 10 %) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const f of figures) {
    if (f.volley.length === 0 && f["socket.io"].length === 0) continue;
    const info = f.better === "info";
    const hint = f.better === "higher" ? " ↑" : f.better === "lower" ? " ↓" : "";
    // A ratio of two CPU shares or of noise says nothing; show it for the real figures only.
    const vs = info || f.vsSocketIo.length === 0 ? "–" : `${median(f.vsSocketIo).toFixed(2)}×`;
    const bar = f.bar && f.vsSocketIo.length ? `${f.bar[0] === ">=" ? "≥" : "≤"} ${f.bar[1]}× ${meets(median(f.vsSocketIo), f.bar) ? "✓" : "✗"}` : "–";
    const vf = info || f.vsFloor.length === 0 ? "–" : `${median(f.vsFloor).toFixed(2)}× ${nearFloor(median(f.vsFloor), f.better) ? "✓" : "✗"}`;
    rows.push(`| ${f.label}${hint} | ${summary(f.volley)} | ${summary(f["socket.io"])} | ${summary(f.floor)} | ${vs} | ${bar} | ${vf} |`);
  }
  return rows.join("\n");
}

/** Figures where Volley misses a bar, for the summary line. */
function misses(figures) {
  const out = [];
  for (const f of figures) {
    if (f.better === "info") continue;
    if (f.bar && f.vsSocketIo.length && !meets(median(f.vsSocketIo), f.bar)) out.push(`${f.label} vs socket.io (${median(f.vsSocketIo).toFixed(2)}×, bar ${f.bar[0]} ${f.bar[1]}×)`);
    if (f.vsFloor.length && !nearFloor(median(f.vsFloor), f.better)) out.push(`${f.label} vs floor (${median(f.vsFloor).toFixed(2)}×)`);
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const params = scenarioParams(opts);
  const machine = machineInfo();
  console.log(`socket benchmark: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, load average ${machine.loadavgAtStart.join(" ")}`);
  console.log(`reps=${opts.reps} duration=${opts.duration}s scenarios=${opts.only.join(",")}${opts.quick ? " (quick)" : ""}${opts.pin ? " pinned (servers CPU 0, load generator CPU 1)" : ""}`);
  console.log(`bufferutil: ${bufferutilNote(opts.bufferutilAll)}\n`);

  if (opts.pin) {
    if (machine.nproc < 2) throw new Error("--pin needs two CPUs");
    pinTo(process.pid, 1); // servers get CPU 0
  }
  const runs = [];
  let disturbed = 0;
  const clientBound = new Set();
  const distBuilds = new Set(); // dist/ is loaded by each fork: a rebuild mid-run mixes versions
  for (let rep = 0; rep < opts.reps; rep++) {
    // Rotate the order, so that each server takes each position across repetitions.
    const order = opts.impls.map((_, i) => opts.impls[(i + rep) % opts.impls.length]);
    for (const name of opts.only) {
      for (const impl of order) {
        if (SCENARIOS[name].skip?.includes(impl)) continue;
        const attempts = opts.waitIdle > 0 ? MAX_ATTEMPTS : 1;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          if (opts.waitIdle > 0) {
            const busy = await waitForIdle(opts.waitIdle * 1000);
            if (busy !== undefined && busy >= 15) console.log(`  note: machine still ${fmt(busy)}% busy after waiting ${opts.waitIdle} s`);
          }
          const build = impl === "volley" ? distStamp() : undefined;
          if (build) distBuilds.add(build);
          const result = await measure(name, impl, params[name], opts, `rep${rep + 1}-try${attempt}`);
          const [mainKey, mainLabel] = SCENARIOS[name].figures[0];
          const cpu = `CPU server ${fmt(result.serverCpuPct)}% client ${fmt(result.clientCpuPct)}% other ${fmt(result.otherCpuPct)}%`;
          console.log(`rep ${rep + 1}/${opts.reps} ${SCENARIOS[name].title.padEnd(15)} ${impl.padEnd(9)} ${fmt(result[mainKey]).padStart(10)} ${mainLabel.split(": ")[1].padEnd(16)} ${cpu}`);
          if (result.clientCpuPct > CLIENT_BOUND_PCT) clientBound.add(`${name}/${impl}`);
          const isDisturbed = result.otherCpuPct > DISTURBED_PCT;
          if (isDisturbed) console.log(`  warning: ${fmt(result.otherCpuPct)}% of the machine's CPU went elsewhere during this run; the machine is not idle`);
          if (!isDisturbed || attempt === attempts) {
            if (isDisturbed) disturbed++;
            runs.push({ rep, scenario: name, impl, attempt, disturbed: isDisturbed, distBuild: build, result });
            break;
          }
          console.log("  redoing this run");
        }
      }
    }
  }

  // Figures across repetitions, plus the ratios within each repetition.
  const figures = [];
  for (const name of opts.only) {
    for (const [key, label, better, bar] of SCENARIOS[name].figures) {
      const of = (impl, rep) => runs.find((r) => r.scenario === name && r.impl === impl && r.rep === rep)?.result[key];
      const f = { scenario: name, key, label, better, bar, volley: [], "socket.io": [], floor: [], vsSocketIo: [], vsFloor: [] };
      for (let rep = 0; rep < opts.reps; rep++) {
        const v = of("volley", rep);
        const s = of("socket.io", rep);
        const fl = of("floor", rep);
        if (v !== undefined) f.volley.push(v);
        if (s !== undefined) f["socket.io"].push(s);
        if (fl !== undefined) f.floor.push(fl);
        if (v !== undefined && s !== undefined && s !== 0) f.vsSocketIo.push(v / s);
        if (v !== undefined && fl !== undefined && fl !== 0) f.vsFloor.push(v / fl);
      }
      figures.push(f);
    }
  }

  const md = table(figures);
  console.log(`\n${md}\n`);
  console.log("↑ higher is better, ↓ lower is better; medians [min–max] over repetitions; ratios are medians of per-repetition ratios.");
  const missed = misses(figures);
  if (missed.length) console.log(`\nVolley misses ${missed.length} bar(s):\n${missed.map((m) => `  - ${m}`).join("\n")}`);
  else if (figures.some((f) => f.vsSocketIo.length || f.vsFloor.length)) console.log("\nVolley meets every bar in this run.");
  else console.log("\nNo ratios: run Volley with socket.io and the floor to check the bars.");
  if (clientBound.size) console.log(`\nnote: the load generator was above ${CLIENT_BOUND_PCT}% CPU in ${[...clientBound].join(", ")}: there the throughput measures the client as much as the server; read the server CPU per operation.`);
  if (distBuilds.size > 1) console.log(`warning: dist/ was rebuilt during the run (${[...distBuilds].join(", ")}): Volley's repetitions did not all run the same build`);
  if (disturbed > 0) console.log(`warning: ${disturbed} run(s) were disturbed by other load (other CPU > ${DISTURBED_PCT}%); rerun on an idle machine${opts.waitIdle ? "" : " or with --wait-idle"}`);

  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "Z");
  const dir = path.join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `socket-${stamp}.json`);
  const version = (p) => JSON.parse(readFileSync(path.join(here, "..", p), "utf8")).version;
  const packages = { volley: version("package.json"), "socket.io": version("node_modules/socket.io/package.json"), ws: version("node_modules/ws/package.json") };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, packages, options: opts, params, disturbedRuns: disturbed, distBuilds: [...distBuilds], figures, runs, table: md, misses: missed }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}

process.on("SIGINT", () => {
  killServers();
  process.exit(130);
});
process.on("SIGTERM", () => {
  killServers();
  process.exit(143);
});
process.on("exit", killServers);

main().then(
  () => {
    // Anything still open (a stray keep-alive socket) must not keep the benchmark alive.
    setTimeout(() => process.exit(0), 100).unref();
  },
  (err) => {
    console.error(err);
    killServers();
    process.exit(1);
  },
);
