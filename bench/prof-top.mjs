// Top self-time functions of V8 CPU profiles (.cpuprofile, as written by --profile or
// node --cpu-prof), aggregated by function and location across the given files. With
// --inclusive, also the top functions by total time (time with the function on the stack),
// optionally only those whose location contains --filter's text.
//
//   node bench/prof-top.mjs [--top 25] [--inclusive] [--filter dist/] <file.cpuprofile>...
import { readFileSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
let top = 25;
let inclusive = false;
let filter = "";
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--top" && i + 1 < args.length) top = Math.max(1, Number(args[++i]) || 25);
  else if (args[i] === "--inclusive") inclusive = true;
  else if (args[i] === "--filter" && i + 1 < args.length) filter = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node bench/prof-top.mjs [--top N] <file.cpuprofile>...");
  process.exit(2);
}

const selfUs = new Map(); // "name  file:line" -> µs
const totalUsBy = new Map(); // same keys, time on the stack
let totalUs = 0;
const keyOf = (node) => {
  const cf = node.callFrame;
  const where = cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : "";
  return `${cf.functionName || "(anonymous)"}  ${where}`.trim();
};
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each sample is attributed to its node for the time until the next sample.
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    const node = byId.get(samples[i]);
    if (!node || dt <= 0) continue;
    const key = keyOf(node);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    totalUs += dt;
    if (!inclusive) continue;
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      totalUsBy.set(k, (totalUsBy.get(k) ?? 0) + dt);
    }
  }
}

function shorten(url) {
  const p = url.replace(/^file:\/\//, "");
  const nm = p.lastIndexOf("node_modules/");
  if (nm !== -1) return p.slice(nm + "node_modules/".length);
  const cwd = process.cwd() + path.sep;
  return p.startsWith(cwd) ? p.slice(cwd.length) : p;
}

const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
const busy = totalUs - (selfUs.get("(idle)") ?? 0);
console.log(`${files.length} profile(s), ${(totalUs / 1e3).toFixed(0)} ms sampled, ${(busy / 1e3).toFixed(0)} ms not idle`);
console.log("self ms   % busy  function  location");
for (const [key, us] of rows) {
  const pct = key === "(idle)" ? "" : ((us / busy) * 100).toFixed(1);
  console.log(`${(us / 1e3).toFixed(1).padStart(7)}  ${pct.padStart(6)}  ${key}`);
}

if (inclusive) {
  const incl = [...totalUsBy.entries()].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`\ntotal ms  % busy  function  location${filter ? ` (location contains "${filter}")` : ""}`);
  for (const [key, us] of incl) console.log(`${(us / 1e3).toFixed(1).padStart(7)}  ${((us / busy) * 100).toFixed(1).padStart(6)}  ${key}`);
}
