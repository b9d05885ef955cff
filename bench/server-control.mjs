// IPC control shared by the socket benchmark's servers (bench/socket-server.mjs and
// bench/floor-server.mjs), so that socket.io, Volley and the floor are driven and weighed
// the same way. Requests from bench/socket.mjs, each answered with the request's `id`:
//   { cmd: "cpu-mark" }        -> { cpu: { user, system } }  CPU µs since the previous mark
//   { cmd: "mem" }             -> { gc, mem, clientsCount }  memory after a full GC
//   { cmd: "clients" }         -> { clientsCount }
//   { cmd: "wait-clients", n } -> { clientsCount } once at most n sessions are left
//   { cmd: "broadcast", target: "all" | "room", turns, perTurn, payload }
//        -> { ms } after `perTurn` emits in each of `turns` event-loop turns (setImmediate
//           between turns); `ms` is how long the emitting took on the server's clock
//   { cmd: "heap-snapshot", file } -> { file } a V8 heap snapshot after a full GC
//   { cmd: "profile-start" } / { cmd: "profile-stop", file } -> CPU profile of a window
//   { cmd: "exit" }            -> closes and exits
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { writeHeapSnapshot } from "node:v8";

/** Upper bound on broadcast turns, so that a bad request cannot keep the server busy. */
const MAX_TURNS = 100_000;

/**
 * Starts answering the parent's requests. `server` provides:
 *   clientsCount(): number            open sessions (Engine.IO level)
 *   emit(target, payload): void       one broadcast of the event "bc" to "all" or "room"
 *   close(): void                     stops listening (the process exits right after)
 * Returns `sessionClosed()`, to be called whenever a session closes.
 */
export function serveControl(server) {
  let waiters = [];
  let cpuMark = process.cpuUsage();

  function checkWaiters() {
    if (waiters.length === 0) return;
    const count = server.clientsCount();
    const left = [];
    for (const w of waiters) {
      if (count <= w.n) w.reply({ clientsCount: count });
      else left.push(w);
    }
    waiters = left;
  }

  function broadcast(msg, reply) {
    const target = msg.target === "room" ? "room" : "all";
    const turns = Math.min(MAX_TURNS, Math.max(1, Number(msg.turns) || 1));
    const perTurn = Math.min(1000, Math.max(1, Number(msg.perTurn) || 1));
    const payload = String(msg.payload);
    const t0 = process.hrtime.bigint();
    let turn = 0;
    const step = () => {
      for (let i = 0; i < perTurn; i++) server.emit(target, payload);
      if (++turn < turns) setImmediate(step);
      else reply({ ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    };
    step();
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
        reply({ gc, mem: process.memoryUsage(), clientsCount: server.clientsCount() });
        break;
      }
      case "clients":
        reply({ clientsCount: server.clientsCount() });
        break;
      case "wait-clients":
        waiters.push({ n: Number(msg.n) || 0, reply });
        checkWaiters();
        break;
      case "broadcast":
        broadcast(msg, reply);
        break;
      case "heap-snapshot":
        fullGc();
        reply({ file: writeHeapSnapshot(String(msg.file)) });
        break;
      case "profile-start":
        profileStart(() => reply({}));
        break;
      case "profile-stop":
        profileStop(String(msg.file), (error) => reply({ error }));
        break;
      case "exit":
        shutdown(server);
        break;
    }
  });

  // Never outlive the benchmark: the parent going away ends this process.
  process.on("disconnect", () => shutdown(server));

  // The server's own bookkeeping may run after its close listeners: look once it is done.
  return () => setImmediate(checkWaiters);
}

function fullGc() {
  if (typeof global.gc !== "function") return false;
  // A few rounds so that weak references and finalizers settle.
  for (let i = 0; i < 4; i++) global.gc();
  return true;
}

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
  if (!session) return done("profiling was not started");
  session.post("Profiler.stop", (err, result) => {
    if (err) return done(String(err));
    writeFileSync(file, JSON.stringify(result.profile));
    done(undefined);
  });
}

function shutdown(server) {
  try {
    server.close();
  } finally {
    // Do not wait for lingering sockets.
    setImmediate(() => process.exit(0));
  }
}

/** Tells the parent the port, on IPC and stdout. */
export function announce(port) {
  console.log(port);
  process.send?.({ ready: true, port });
}
