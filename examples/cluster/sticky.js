// Node's `cluster` module: one port, several Volley workers, HTTP long-polling included.
//   npm run build
//   node examples/cluster/sticky.js          # http://127.0.0.1:3000, 3 workers
// Environment: PORT (default 3000, 0 picks a free one), HOST (default 127.0.0.1), WORKERS (default 3).
//
// The primary owns the port. @socket.io/sticky reads the first bytes of each connection and
// hands it to a worker: a new session to the least busy one, a request that carries a
// session id (`sid=`) to the worker that owns that session. Without that, a polling
// client's requests would land on workers that do not know its session.
// @socket.io/cluster-adapter relays broadcasts between the workers through the primary.
const cluster = require("node:cluster");
const http = require("node:http");
const { setupMaster, setupWorker } = require("@socket.io/sticky");
const { createAdapter, setupPrimary } = require("@socket.io/cluster-adapter");

const READY = "volley-example:ready";

if (cluster.isPrimary) {
  const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);
  const host = process.env.HOST ?? "127.0.0.1";
  const workers = Number(process.env.WORKERS) || 3;

  const httpServer = http.createServer();
  setupMaster(httpServer, { loadBalancingMethod: "least-connection" });
  setupPrimary(); // the cluster adapter's relay
  // Sticky sends the first bytes of each request as a Buffer: "advanced" keeps them binary.
  cluster.setupPrimary({ serialization: "advanced" });

  let stopping = false;
  const started = [];
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    // A worker gets connections only once it listens for them (its "ready" message).
    started.push(
      new Promise((resolve, reject) => {
        worker.on("message", (msg) => msg?.type === READY && resolve());
        worker.once("exit", () => reject(new Error(`worker ${worker.id} exited while starting`)));
      }),
    );
  }
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    // Its sessions are gone (their clients reconnect elsewhere); keep the pool full.
    console.error(`worker ${worker.id} died (${code ?? signal}); starting another`);
    cluster.fork();
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    httpServer.close();
    // Workers close their server when their IPC channel goes (see below).
    cluster.disconnect(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  Promise.all(started).then(
    () =>
      httpServer.listen(port, host, () => {
        console.log(`sticky cluster on http://${host}:${httpServer.address().port} (${workers} workers, primary pid ${process.pid})`);
      }),
    (err) => {
      console.error(err.message);
      stop();
    },
  );
} else {
  const { Server } = require("../../dist");
  // Never listens: the primary passes connections in (setupWorker).
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter() });
  setupWorker(io);

  const worker = cluster.worker.id;
  io.on("connection", (socket) => {
    socket.emit("welcome", { worker, transport: socket.conn.transport.name });
    // Reaches the clients of every worker, through the cluster adapter.
    socket.on("chat", (text, ack) => {
      io.emit("chat", { text: String(text).slice(0, 200), from: socket.id, worker });
      if (typeof ack === "function") ack({ ok: true });
    });
    socket.on("servers", async (ack) => {
      if (typeof ack === "function") ack(await io.of("/").adapter.serverCount());
    });
  });

  // The primary going away (or disconnecting us) ends the worker.
  process.on("disconnect", () => {
    io.close().finally(() => process.exit(0));
  });
  process.send({ type: READY });
}
