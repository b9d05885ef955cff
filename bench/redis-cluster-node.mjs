// One node of the Redis cluster benchmark, forked by bench/redis-cluster.mjs.
//
//   node bench/redis-cluster-node.mjs <volley|official> <key> [redisUrl]
//
// A Socket.IO server (Volley from dist/, or the official socket.io) on 127.0.0.1, any free
// port, with @socket.io/redis-adapter (the `redis` client) on channels prefixed `key`.
// Both use default server options, except serveClient: false. IPC requests:
//   { cmd: "server-count" }        -> { count }      the adapter's serverCount()
//   { cmd: "clients" }             -> { count }      connected sockets on this node
//   { cmd: "cpu-mark" }            -> { cpu }        CPU µs used since the previous mark
//   { cmd: "emit", n, batch, text } -> { emitMs }    io.emit("m", seq, text) n times, `batch`
//                                                    per event-loop turn; replies when done
//   { cmd: "exit" }                -> closes and exits
// Every reply carries the request's `id`. Ready is signalled with { ready: true, port }.
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [impl, key, redisUrl = "redis://127.0.0.1:6379"] = process.argv.slice(2);
const modules = { volley: "../dist/index.js", official: "socket.io" };
if (!Object.hasOwn(modules, impl) || !key) {
  console.error(`usage: redis-cluster-node.mjs <${Object.keys(modules).join("|")}> <key> [redisUrl]`);
  process.exit(2);
}
const { Server } = require(modules[impl]);
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");

const pubClient = createClient({ url: redisUrl });
const subClient = pubClient.duplicate();
for (const client of [pubClient, subClient]) client.on("error", (err) => console.error(`${impl} node: redis: ${err.message}`));
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pubClient, subClient, { key }) });

let cpuMark = process.cpuUsage();

/** Emits `n` broadcasts, `batch` per turn of the event loop; resolves with the time taken. */
async function emitMany(n, batch, text) {
  const t0 = performance.now();
  for (let seq = 0; seq < n; ) {
    const end = Math.min(n, seq + batch);
    for (; seq < end; seq++) io.emit("m", seq, text);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - t0;
}

process.on("message", (msg) => {
  if (!msg || typeof msg !== "object") return;
  const reply = (body) => process.send?.({ id: msg.id, ...body });
  switch (msg.cmd) {
    case "server-count":
      io.of("/").adapter.serverCount().then(
        (count) => reply({ count }),
        (err) => reply({ error: String(err) }),
      );
      break;
    case "clients":
      reply({ count: io.of("/").sockets.size });
      break;
    case "cpu-mark": {
      const cpu = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      reply({ cpu });
      break;
    }
    case "emit":
      emitMany(Number(msg.n), Number(msg.batch) || 100, String(msg.text)).then((emitMs) => reply({ emitMs }));
      break;
    case "exit":
      shutdown(0);
      break;
  }
});

// Never outlive the benchmark: the parent going away ends this process.
process.on("disconnect", () => shutdown(0));

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  httpServer.closeAllConnections?.();
  const done = () => setImmediate(() => process.exit(code));
  // Bounded: a stuck close must not keep the process.
  setTimeout(done, 2000).unref();
  Promise.resolve()
    .then(() => io.close())
    .then(() => Promise.all([pubClient.close(), subClient.close()]))
    .catch(() => {})
    .finally(done);
}

httpServer.listen(0, "127.0.0.1", () => {
  process.send?.({ ready: true, port: httpServer.address().port });
});
