// Where a server's per-connection heap goes: forks one benchmark server, takes a V8 heap
// snapshot with no clients and another with N idle clients joined to "/", and prints the
// object kinds whose count or size grew, per connection, largest first.
//
//   node bench/heap-census.mjs [volley|socket.io|floor] [clients=2000] [rows=40] [browser]
//
// With "browser", clients send the headers of a browser's upgrade request (BROWSER_HEADERS).
//
// A diagnosis tool for the connect scenario's heap figure (bench/socket.mjs), not a benchmark.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BROWSER_HEADERS, closeAll, connectRaw } from "./raw-ws.mjs";
import { forkServer } from "./server-process.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const [impl = "volley", clientsArg = "2000", rowsArg = "40", headersArg] = process.argv.slice(2);
const connectOptions = { headers: headersArg === "browser" ? BROWSER_HEADERS : "" };
const clients = Number(clientsArg);
const rows = Number(rowsArg);

const [script, args] = impl === "floor" ? ["floor-server.mjs", ["0"]] : ["socket-server.mjs", [impl, "0"]];
const server = await forkServer(path.join(here, script), args, { name: impl });
const port = server.port;

/** Per "kind" (node type and constructor or string class): count and self size. */
function census(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const { node_fields: fields, node_types: [types] } = snap.snapshot.meta;
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const out = new Map();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = type === "string" || type === "concatenated string" || type === "sliced string" ? "" : strings[nodes[i + iName]];
    if (type === "code" || type === "number") name = "";
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type} ${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

const dir = path.join(here, "results", "heap");
mkdirSync(dir, { recursive: true });
const warm = [];
for (let i = 0; i < 50; i++) warm.push(await connectRaw(port, "/socket.io/", connectOptions));
await closeAll(warm);
await new Promise((r) => setTimeout(r, 200));
const { file: beforeFile } = await server.ask("heap-snapshot", { file: path.join(dir, `${impl}-0.heapsnapshot`) });
const sockets = [];
for (let i = 0; i < clients; i++) sockets.push(await connectRaw(port, "/socket.io/", connectOptions));
const { file: afterFile } = await server.ask("heap-snapshot", { file: path.join(dir, `${impl}-${clients}.heapsnapshot`) });
await closeAll(sockets);
await server.stop();

const before = census(beforeFile);
const after = census(afterFile);
if (!process.env.KEEP) rmSync(beforeFile);
if (!process.env.KEEP) rmSync(afterFile);
const grown = [];
let total = 0;
for (const [key, a] of after) {
  const b = before.get(key) ?? { count: 0, size: 0 };
  const size = a.size - b.size;
  total += size;
  if (size > 0) grown.push({ key, count: (a.count - b.count) / clients, size: size / clients });
}
grown.sort((x, y) => y.size - x.size);
console.log(`${impl}: ${(total / clients).toFixed(0)} heap bytes per connection (snapshot self sizes)`);
console.log("bytes/conn  objects/conn  kind");
for (const g of grown.slice(0, rows)) console.log(`${g.size.toFixed(1).padStart(10)}  ${g.count.toFixed(2).padStart(12)}  ${g.key}`);
