// Engine benchmark: Volley's engine (dist/engine) against the official engine.io, same run.
//
//   npm run bench                       # build, then 3 repetitions of every scenario
//   node bench/engine.mjs --quick       # smoke run: 1 repetition, short durations
//   node bench/engine.mjs --reps 5 --duration 6 --only ws,ws1,poll,conn
//   node bench/engine.mjs --wait-idle 120  # shared machine: wait for idle, redo disturbed runs
//   node bench/engine.mjs --pin            # server on CPU 0, load generator on CPU 1 (taskset)
//   node bench/engine.mjs --profile volley --only ws   # CPU profiles of the server's windows
//
// Each measurement forks a fresh server (bench/engine-server.mjs) and runs it alone; this
// process is the load generator. The order of the two servers alternates per repetition.
// See bench/README.md for what the figures mean.
import { mkdirSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { forkServer, killServers, pinTo } from "./server-process.mjs";
import { connections, pollingEcho, waitForIdle, within, wsEcho } from "./engine-load.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const IMPLS = ["volley", "official"];
/** Machine CPU % outside server and load generator above which a run is flagged. */
const DISTURBED_PCT = 25;
/** With --wait-idle: tries per measurement before a disturbed result is kept anyway. */
const MAX_ATTEMPTS = 3;
const LABEL = { volley: "volley", official: "engine.io" };

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = { quick: false, reps: 3, duration: 4, only: ["ws", "ws1", "poll", "conn"], profile: [], waitIdle: 0, pin: false };
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
    else if (arg === "--profile") opts.profile = value().split(",");
    else if (arg === "--wait-idle") opts.waitIdle = positive(value(), arg);
    else if (arg === "--pin") opts.pin = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(2, 9).join("\n").replace(/^\/\/ ?/gm, ""));
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  for (const s of opts.only) if (!Object.hasOwn(SCENARIOS, s)) throw new Error(`unknown scenario ${s}`);
  for (const p of opts.profile) if (!IMPLS.includes(p)) throw new Error(`unknown implementation ${p}`);
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
async function startServer(impl, { profile, pin, tag }) {
  const server = await forkServer(path.join(here, "engine-server.mjs"), [impl, "0"], {
    name: impl,
    // engine.io does not depend on bufferutil: its ws must not load the copy Volley brings.
    env: impl === "official" ? { ...process.env, WS_NO_BUFFER_UTIL: "1" } : process.env,
    pin,
    // Profiles cover measurement windows only: bench/results/prof/<impl>-<window>-<tag>.cpuprofile
    profileFile: profile ? (window) => path.join(here, "results", "prof", `${impl}-${window}-${tag}.cpuprofile`) : undefined,
  });
  return { impl, ...server };
}

// ---------------------------------------------------------------- scenarios and figures

/** Figures: key in a scenario's result, label, unit, and which direction is better. */
const SCENARIOS = {
  ws: {
    title: "echo over WebSocket",
    figures: [
      ["msgsPerSec", "WS echo: messages/s", "higher"],
      ["serverUsPerMsg", "WS echo: server CPU µs/message", "lower"],
      ["serverCpuPct", "WS echo: server CPU %", "info"],
      ["clientCpuPct", "WS echo: load generator CPU %", "info"],
      ["otherCpuPct", "WS echo: other CPU % (disturbance)", "info"],
    ],
  },
  ws1: {
    title: "WS echo, 1 in flight",
    figures: [
      ["msgsPerSec", "WS echo, 1 in flight: messages/s", "higher"],
      ["serverUsPerMsg", "WS echo, 1 in flight: server CPU µs/message", "lower"],
      ["serverCpuPct", "WS echo, 1 in flight: server CPU %", "info"],
      ["clientCpuPct", "WS echo, 1 in flight: load generator CPU %", "info"],
      ["otherCpuPct", "WS echo, 1 in flight: other CPU % (disturbance)", "info"],
    ],
  },
  poll: {
    title: "echo over polling",
    figures: [
      ["roundTripsPerSec", "polling echo: round trips/s", "higher"],
      ["serverUsPerRoundTrip", "polling echo: server CPU µs/round trip", "lower"],
      ["serverCpuPct", "polling echo: server CPU %", "info"],
      ["clientCpuPct", "polling echo: load generator CPU %", "info"],
      ["otherCpuPct", "polling echo: other CPU % (disturbance)", "info"],
    ],
  },
  conn: {
    title: "WebSocket connections",
    figures: [
      ["connsPerSec", "connections: handshakes/s", "higher"],
      ["serverUsPerConn", "connections: server CPU µs/handshake", "lower"],
      ["serverCpuPct", "connections: server CPU %", "info"],
      ["clientCpuPct", "connections: load generator CPU %", "info"],
      ["otherCpuPct", "connections: other CPU % (disturbance)", "info"],
      ["heapPerConn", "connections: server heap bytes/connection", "lower"],
      ["rssPerConn", "connections: server RSS bytes/connection", "lower"],
      ["closesPerSec", "connections: closes/s", "higher"],
      ["serverUsPerClose", "connections: server CPU µs/close", "lower"],
    ],
  },
};

/** One measurement on a fresh server process. */
async function measure(name, impl, params, opts, tag) {
  const server = await startServer(impl, { profile: opts.profile.includes(impl), pin: opts.pin, tag });
  try {
    return await runScenario(name, server, params);
  } finally {
    await server.stop();
  }
}

function scenarioParams(opts) {
  const durationMs = opts.duration * 1000;
  const warmupMs = opts.quick ? 300 : 1000;
  return {
    ws: { clients: 50, inflight: 10, warmupMs, durationMs },
    ws1: { clients: 50, inflight: 1, warmupMs, durationMs },
    poll: { clients: 50, warmupMs, durationMs },
    conn: { total: opts.quick ? 300 : 1000, concurrency: 50, warmup: opts.quick ? 50 : 200 },
  };
}

async function runScenario(name, server, params) {
  const budget = (params.warmupMs ?? 0) + (params.durationMs ?? 0) + 60_000;
  const args = { port: server.port, ...params };
  const run = name === "ws" || name === "ws1" ? wsEcho : name === "poll" ? pollingEcho : connections;
  return within(run(server, args), budget, `${name} scenario on ${server.impl}`);
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

function table(figures) {
  const rows = [
    "| figure | volley (median [min–max]) | engine.io (median [min–max]) | ratio volley/engine.io |",
    "| --- | --- | --- | --- |",
  ];
  for (const f of figures) {
    if (f.volley.length === 0 || f.official.length === 0) continue;
    const hint = f.better === "higher" ? " ↑" : f.better === "lower" ? " ↓" : "";
    // A ratio of two CPU shares or of noise says nothing; show it for the real figures only.
    const ratio = f.better === "info" ? "–" : f.ratio.length ? `${median(f.ratio).toFixed(2)}×` : "n/a";
    rows.push(`| ${f.label}${hint} | ${summary(f.volley)} | ${summary(f.official)} | ${ratio} |`);
  }
  return rows.join("\n");
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const params = scenarioParams(opts);
  const machine = machineInfo();
  console.log(`engine benchmark: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, load average ${machine.loadavgAtStart.join(" ")}`);
  console.log(`reps=${opts.reps} duration=${opts.duration}s scenarios=${opts.only.join(",")}${opts.quick ? " (quick)" : ""}${opts.pin ? " pinned (server CPU 0, load generator CPU 1)" : ""}\n`);

  if (opts.pin) {
    if (machine.nproc < 2) throw new Error("--pin needs two CPUs");
    pinTo(process.pid, 1); // servers get CPU 0
  }
  const runs = [];
  let disturbed = 0;
  for (let rep = 0; rep < opts.reps; rep++) {
    const order = rep % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const name of opts.only) {
      for (const impl of order) {
        // With --wait-idle, a disturbed run is redone (a bounded number of times).
        const attempts = opts.waitIdle > 0 ? MAX_ATTEMPTS : 1;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          if (opts.waitIdle > 0) {
            const busy = await waitForIdle(opts.waitIdle * 1000);
            if (busy !== undefined && busy >= 15) console.log(`  note: machine still ${fmt(busy)}% busy after waiting ${opts.waitIdle} s`);
          }
          const result = await measure(name, impl, params[name], opts, `rep${rep + 1}-try${attempt}`);
          const main = SCENARIOS[name].figures[0];
          const cpu = `CPU server ${fmt(result.serverCpuPct)}% client ${fmt(result.clientCpuPct)}% other ${fmt(result.otherCpuPct)}%`;
          console.log(`rep ${rep + 1}/${opts.reps} ${SCENARIOS[name].title.padEnd(22)} ${LABEL[impl].padEnd(9)} ${fmt(result[main[0]]).padStart(9)} ${main[1].split(": ")[1].padEnd(14)} ${cpu}`);
          const isDisturbed = result.otherCpuPct > DISTURBED_PCT;
          if (isDisturbed) console.log(`  warning: ${fmt(result.otherCpuPct)}% of the machine's CPU went elsewhere during this run; the machine is not idle`);
          if (!isDisturbed || attempt === attempts) {
            if (isDisturbed) disturbed++;
            runs.push({ rep, scenario: name, impl, attempt, disturbed: isDisturbed, result });
            break;
          }
          console.log("  redoing this run");
        }
      }
    }
  }

  // Figures across repetitions, plus the ratio within each repetition's pair.
  const figures = [];
  for (const name of opts.only) {
    for (const [key, label, better] of SCENARIOS[name].figures) {
      const of = (impl, rep) => runs.find((r) => r.scenario === name && r.impl === impl && r.rep === rep)?.result[key];
      const f = { scenario: name, key, label, better, volley: [], official: [], ratio: [] };
      for (let rep = 0; rep < opts.reps; rep++) {
        const v = of("volley", rep);
        const o = of("official", rep);
        if (v !== undefined) f.volley.push(v);
        if (o !== undefined) f.official.push(o);
        if (v !== undefined && o !== undefined && o !== 0) f.ratio.push(v / o);
      }
      figures.push(f);
    }
  }

  const md = table(figures);
  console.log(`\n${md}\n`);
  console.log("↑ higher is better, ↓ lower is better; the ratio is the median of the per-repetition ratios.");
  if (disturbed > 0) console.log(`warning: ${disturbed} run(s) were disturbed by other load (other CPU > ${DISTURBED_PCT}%); rerun on an idle machine${opts.waitIdle ? "" : " or with --wait-idle"}`);

  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "Z");
  const dir = path.join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `engine-${stamp}.json`);
  const packages = {
    volley: JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8")).version,
    "engine.io": JSON.parse(readFileSync(path.join(here, "..", "node_modules", "engine.io", "package.json"), "utf8")).version,
  };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, packages, options: opts, params, disturbedRuns: disturbed, figures, runs, table: md }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}

process.on("SIGINT", () => {
  killServers();
  process.exit(130);
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
