// One echo server for the engine benchmark, forked by bench/engine.mjs.
//
//   node --expose-gc bench/engine-server.mjs <volley|official> <port>
//
// Serves Engine.IO on 127.0.0.1:<port> (0 = any free port) at /engine.io/, echoes every
// message back to its sender, and answers the parent's IPC requests:
//   { cmd: "cpu-mark" }  -> { cpu: { user, system } }  CPU µs used since the previous mark
//   { cmd: "mem" }       -> { mem, clientsCount }       memory after a full GC
//   { cmd: "profile-start" } / { cmd: "profile-stop", file } -> CPU profile of a window
//   { cmd: "clients" }   -> { clientsCount }
//   { cmd: "wait-clients", n } -> { clientsCount } once at most n sessions are left
//   { cmd: "exit" }      -> closes and exits
// Every reply carries the request's `id`. Ready is signalled with { ready: true, port } on
// IPC and the port printed on stdout.
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Session } from "node:inspector";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [impl, portArg = "0"] = process.argv.slice(2);

const modules = {
  volley: "../dist/engine/index.js",
  official: "engine.io",
};
if (!Object.hasOwn(modules, impl)) {
  console.error(`usage: engine-server.mjs <${Object.keys(modules).join("|")}> <port>`);
  process.exit(2);
}
const { attach } = require(modules[impl]);

const httpServer = createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
// Same options for both: defaults, except the path spelled out.
const engine = attach(httpServer, { path: "/engine.io" });

// Pending { cmd: "wait-clients" } requests, answered as soon as few enough sessions are left.
let waiters = [];

engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
  // The engine's own bookkeeping may run after this listener: look once the close is done.
  socket.once("close", () => setImmediate(checkWaiters));
});

function checkWaiters() {
  if (waiters.length === 0) return;
  const left = [];
  for (const w of waiters) {
    if (engine.clientsCount <= w.n) w.reply({ clientsCount: engine.clientsCount });
    else left.push(w);
  }
  waiters = left;
}

let cpuMark = process.cpuUsage();

function fullGc() {
  if (typeof global.gc !== "function") return false;
  // A few rounds so that weak references and finalizers settle.
  for (let i = 0; i < 4; i++) global.gc();
  return true;
}

process.on("message", (msg) => {
  if (!msg || typeof msg !== "object") return;
  const reply = (body) => process.send?.({ id: msg.id, ...body });
  switch (msg.cmd) {
    case "cpu-mark": {
      const cpu = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      reply({ cpu });
      break;
    }
    case "mem": {
      const gc = fullGc();
      reply({ gc, mem: process.memoryUsage(), clientsCount: engine.clientsCount });
      break;
    }
    case "clients":
      reply({ clientsCount: engine.clientsCount });
      break;
    case "wait-clients":
      waiters.push({ n: Number(msg.n) || 0, reply });
      checkWaiters();
      break;
    case "profile-start":
      profileStart(() => reply({}));
      break;
    case "profile-stop":
      profileStop(String(msg.file), (error) => reply({ error }));
      break;
    case "exit":
      shutdown(0);
      break;
  }
});

// CPU profiles of measurement windows only (no start-up, warm-up or forced GCs).
let session;
function profileStart(done) {
  if (!session) {
    session = new Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 200 });
  }
  session.post("Profiler.start", () => done());
}
function profileStop(file, done) {
  session.post("Profiler.stop", (err, result) => {
    if (err) return done(String(err));
    writeFileSync(file, JSON.stringify(result.profile));
    done(undefined);
  });
}

// Never outlive the benchmark: the parent going away ends this process.
process.on("disconnect", () => shutdown(0));

function shutdown(code) {
  try {
    engine.close();
    httpServer.close();
  } finally {
    // Do not wait for lingering keep-alive sockets.
    setImmediate(() => process.exit(code));
  }
}

httpServer.listen(Number(portArg), "127.0.0.1", () => {
  const { port } = httpServer.address();
  console.log(port);
  process.send?.({ ready: true, port });
});
