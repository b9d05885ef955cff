// Soak test: thousands of lean clients in waves against a Volley Socket.IO server, then a
// check that everything they used is given back.
//
//   npm run soak                          # build, then a 60 s run
//   node bench/soak.mjs --duration 300    # longer (seconds)
//   node bench/soak.mjs --wave 600 --concurrency 150 --dist build-x
//
// The server runs in a child process (node --expose-gc) with connection state recovery
// on (maxDisconnectionDuration 3 s) and short heartbeats; this process is the load. Each
// wave starts `--wave` clients (speaking Engine.IO / Socket.IO directly: WebSocket,
// polling, and polling upgraded to WebSocket), `--concurrency` at a time. Each client
// joins "/" (and some "/chat"), joins a room, emits events with acks (some binary), gets
// the room's broadcasts and server-side emits with acks (answering only some), then
// leaves: mostly abruptly (sockets destroyed), some gracefully, some abruptly and then
// back with their pid/offset to recover the session before leaving for good.
//
// Before the waves two warm-up waves run and the server is measured after full GCs; after
// the waves, once sessions, recovery state and heartbeats have expired, it is measured
// again. The report compares: heap, timers and TCP handles, engine sessions, namespace
// sockets, adapter rooms and sids, recovery sessions and stored packets, heartbeat lists,
// server Socket objects still alive (FinalizationRegistry) and pending acks.
// Exit status: 0 when everything is back to its starting level, 1 on a leak, 3 when
// clients failed (lost acks, refused connections), 2 on a usage or run error.
import { fork } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

const PING_INTERVAL = 2000;
const PING_TIMEOUT = 2000;
const MAX_DISCONNECTION = 3000;
/** Server-side emits with a timeout: clients answer only some, the rest time out. */
const ACK_TIMEOUT = 1000;
/** A client operation that takes longer than this counts as a failure. */
const CLIENT_TIMEOUT = 15_000;
/** Heap growth tolerated between the two measurements (allocator noise, JIT code, caches). */
const HEAP_TOLERANCE = 2 * 1024 * 1024;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = { duration: 60, wave: 400, concurrency: 100, dist: "dist", server: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--duration") opts.duration = positive(value(), arg);
    else if (arg === "--wave") opts.wave = Math.ceil(positive(value(), arg));
    else if (arg === "--concurrency") opts.concurrency = Math.ceil(positive(value(), arg));
    else if (arg === "--dist") opts.dist = value();
    else if (arg === "--server") opts.server = true;
    else if (arg === "--help" || arg === "-h") {
      const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).join("\n").replace(/^\/\/ ?/gm, ""));
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  return opts;
}

function positive(text, name) {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${name} must be a positive number`);
  return n;
}

// ---------------------------------------------------------------- server (child process)

async function runServer(opts) {
  const { Server } = require(path.resolve(root, opts.dist, "index.js"));
  const { deadlinesFor } = require(path.resolve(root, opts.dist, "internal/deadlines.js"));
  const httpServer = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const io = new Server(httpServer, {
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    serveClient: false,
    connectionStateRecovery: { maxDisconnectionDuration: MAX_DISCONNECTION },
  });
  // Every server-side Socket and engine session made, and how many the GC has taken back.
  let created = 0;
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  const seenConns = new WeakSet();
  const acks = { timedSent: 0, timedAnswered: 0, timedOut: 0, untimedSent: 0, untimedAnswered: 0 };

  const onConnection = (socket) => {
    registry.register(socket, null);
    created++;
    if (!seenConns.has(socket.conn)) {
      seenConns.add(socket.conn);
      registry.register(socket.conn, null);
      created++;
    }
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack("joined");
    });
    socket.on("msg", (m, ack) => {
      socket.to(m.room).emit("room", m.n);
      if (typeof ack === "function") ack(m.n);
    });
    socket.on("bin", (buf, ack) => {
      if (typeof ack === "function") ack(buf.length);
    });
    if (socket.recovered) return;
    acks.timedSent++;
    socket.timeout(ACK_TIMEOUT).emit("probe", "timed", (err) => {
      if (err) acks.timedOut++;
      else acks.timedAnswered++;
    });
    // No timeout: released when the socket goes, if never answered.
    acks.untimedSent++;
    socket.emit("probe", "untimed", () => acks.untimedAnswered++);
  };
  io.on("connection", onConnection);
  io.of("/chat").on("connection", onConnection);

  const stats = () => {
    const resources = process.getActiveResourcesInfo();
    const count = (type) => resources.filter((r) => r === type).length;
    const nsps = {};
    let pendingAcks = 0;
    for (const [name, nsp] of io._nsps) {
      const adapter = nsp.adapter;
      for (const socket of nsp.sockets.values()) pendingAcks += socket.acks.size;
      nsps[name] = {
        sockets: nsp.sockets.size,
        rooms: adapter.rooms.size,
        sids: adapter.sids.size,
        sessions: adapter.sessions?.size ?? 0,
        packets: adapter.packets?.length ?? 0,
      };
    }
    const mem = process.memoryUsage();
    return {
      heapUsed: mem.heapUsed,
      rss: mem.rss,
      timers: count("Timeout"),
      tcp: count("TCPSocketWrap"),
      clientsCount: io.engine.clientsCount,
      nsps,
      heartbeat: deadlinesFor(PING_INTERVAL).size + deadlinesFor(PING_TIMEOUT).size,
      alive: created - collected,
      created,
      pendingAcks,
      acks: { ...acks },
    };
  };

  const fullGc = async () => {
    // Finalizers run as tasks after a collection: give them turns between collections.
    for (let i = 0; i < 6; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  process.on("message", async (msg) => {
    if (msg.cmd === "stats") process.send({ id: msg.id, stats: stats() });
    else if (msg.cmd === "gc-stats") {
      await fullGc();
      process.send({ id: msg.id, stats: stats() });
    } else if (msg.cmd === "exit") {
      await io.close();
      process.exit(0);
    }
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  process.send({ ready: true, port: httpServer.address().port });
}

// ---------------------------------------------------------------- lean clients

/** Engine.IO over WebSocket. */
class WsConn {
  constructor(url, onpacket, onclose) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on("message", (data, isBinary) => onpacket(isBinary ? data : data.toString()));
    this.ws.on("close", onclose);
    this.ws.on("error", () => {});
  }
  send(packet) {
    if (this.ws.readyState === 1) this.ws.send(packet);
  }
  destroy() {
    this.ws.terminate();
  }
  close() {
    this.send("1");
    this.ws.close();
  }
}

/** Engine.IO over HTTP long-polling: one GET in flight, one POST at a time. */
class PollConn {
  constructor(port, onpacket, onclose) {
    this.port = port;
    this.onpacket = onpacket;
    this.onclose = onclose;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    this.sid = undefined;
    this.queue = [];
    this.posting = false;
    this.polling = false;
    this.paused = false;
    this.closed = false;
    this.requests = new Set();
    this.poll();
  }
  request(method, body, cb) {
    const sid = this.sid === undefined ? "" : `&sid=${this.sid}`;
    const headers = body === undefined ? {} : { "Content-Type": "text/plain;charset=UTF-8", "Content-Length": Buffer.byteLength(body) };
    const req = http.request({ host: "127.0.0.1", port: this.port, path: `/socket.io/?EIO=4&transport=polling${sid}`, method, agent: this.agent, headers }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (data += c));
      res.on("end", () => {
        this.requests.delete(req);
        cb(res.statusCode === 200 ? null : new Error(`HTTP ${res.statusCode}`), data);
      });
      res.on("error", () => {});
    });
    req.on("error", (err) => {
      this.requests.delete(req);
      cb(err);
    });
    this.requests.add(req);
    req.end(body);
  }
  poll() {
    if (this.closed || this.paused) return;
    this.polling = true;
    this.request("GET", undefined, (err, data) => {
      this.polling = false;
      if (err) return this.finish();
      for (const packet of data.split("\x1e")) {
        if (packet === "1") return this.finish();
        if (this.sid === undefined && packet[0] === "0") this.sid = JSON.parse(packet.slice(1)).sid;
        this.onpacket(packet);
      }
      this.maybeResume();
      this.poll();
    });
  }
  send(packet) {
    this.queue.push(packet);
    this.flush();
  }
  flush() {
    if (this.posting || this.queue.length === 0 || this.closed || this.sid === undefined) return;
    const body = this.queue.splice(0).join("\x1e");
    this.posting = true;
    this.request("POST", body, (err) => {
      this.posting = false;
      if (err) return this.finish();
      this.maybeResume();
      this.flush();
    });
  }
  /** Stops polling; `cb` runs once no request is in flight (the server answers the GET with a noop). */
  pause(cb) {
    this.paused = true;
    this.onIdle = cb;
    this.maybeResume();
  }
  maybeResume() {
    if (this.paused && this.onIdle && !this.polling && !this.posting) {
      const cb = this.onIdle;
      this.onIdle = undefined;
      cb();
    }
  }
  finish() {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    this.onclose();
  }
  destroy() {
    for (const req of this.requests) req.destroy();
    this.finish();
  }
  close() {
    this.send("1");
    setTimeout(() => this.destroy(), 50);
  }
}

/** A Socket.IO client on a lean Engine.IO connection (WebSocket, polling, or polling upgraded). */
class LeanClient {
  constructor(port, mode, auth, counters) {
    this.port = port;
    this.counters = counters;
    this.auth = auth;
    this.nextId = 0;
    this.pending = new Map();
    this.joined = new Map();
    this.offset = undefined;
    this.closed = false;
    const onpacket = (p) => this.onEnginePacket(p);
    const onclose = () => this.onclose();
    this.ready = new Promise((resolve, reject) => {
      this.joined.set("/", { resolve, reject });
    });
    if (mode === "websocket") this.conn = new WsConn(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, onpacket, onclose);
    else this.conn = new PollConn(port, onpacket, onclose);
    this.upgrade = mode === "upgrade";
  }

  onEnginePacket(p) {
    if (typeof p !== "string") return;
    const type = p[0];
    if (type === "0") {
      this.conn.send(this.auth ? `40${JSON.stringify(this.auth)}` : "40");
      if (this.upgrade) this.startUpgrade(JSON.parse(p.slice(1)).sid);
    } else if (type === "2") this.conn.send("3");
    else if (type === "4") this.onSocketPacket(p.slice(1));
  }

  /** The client side of the polling → WebSocket upgrade: probe, pause polling, "5", switch. */
  startUpgrade(sid) {
    const poll = this.conn;
    const ws = new WsConn(
      `ws://127.0.0.1:${this.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
      (p) => {
        if (p === "3probe") {
          poll.pause(() => {
            ws.send("5");
            this.conn = ws;
            for (const queued of poll.queue.splice(0)) ws.send(queued);
            poll.closed = true;
            poll.agent.destroy();
            this.counters.upgraded++;
          });
        } else this.onEnginePacket(p);
      },
      () => this.onclose(),
    );
    ws.ws.on("open", () => ws.send("2probe"));
  }

  onSocketPacket(s) {
    const type = s[0];
    let i = 1;
    let nsp = "/";
    if (s[i] === "/") {
      const comma = s.indexOf(",", i);
      nsp = s.slice(i, comma);
      i = comma + 1;
    }
    let idText = "";
    while (s[i] >= "0" && s[i] <= "9") idText += s[i++];
    const data = i < s.length ? JSON.parse(s.slice(i)) : undefined;
    if (type === "0") {
      const waiter = this.joined.get(nsp);
      this.joined.delete(nsp);
      waiter?.resolve(data);
    } else if (type === "4") {
      const waiter = this.joined.get(nsp);
      this.joined.delete(nsp);
      waiter?.reject(new Error(`refused: ${JSON.stringify(data)}`));
    } else if (type === "2") {
      const last = data[data.length - 1];
      // Events kept for recovery end with their offset.
      if (data[0] === "room" && typeof last === "string") this.offset = last;
      if (data[0] === "room") this.counters.roomEvents++;
      // Server-side emits with an ack: answer about half of them.
      if (idText !== "" && Math.random() < 0.5) this.conn.send(`43${nsp === "/" ? "" : nsp + ","}${idText}["ok"]`);
    } else if (type === "3") {
      const pending = this.pending.get(`${nsp}#${idText}`);
      this.pending.delete(`${nsp}#${idText}`);
      pending?.(data);
    }
  }

  emitWithAck(nsp, args, binary) {
    const id = this.nextId++;
    const prefix = nsp === "/" ? "" : `${nsp},`;
    return withTimeout(
      new Promise((resolve) => {
        this.pending.set(`${nsp}#${id}`, resolve);
        if (binary) {
          this.conn.send(`451-${prefix}${id}${JSON.stringify([...args, { _placeholder: true, num: 0 }])}`);
          if (this.conn instanceof WsConn) this.conn.send(binary);
          else this.conn.send("b" + binary.toString("base64"));
        } else {
          this.conn.send(`42${prefix}${id}${JSON.stringify(args)}`);
        }
      }),
      `ack of ${args[0]}`,
    );
  }

  joinNamespace(nsp) {
    const joined = new Promise((resolve, reject) => this.joined.set(nsp, { resolve, reject }));
    this.conn.send(`40${nsp},`);
    return withTimeout(joined, `join ${nsp}`);
  }

  onclose() {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.joined.values()) waiter.reject(new Error("closed"));
  }

  destroy() {
    this.conn.destroy();
  }

  close() {
    this.conn.send("41");
    this.conn.close();
  }
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), CLIENT_TIMEOUT);
    }),
  ]);
}

/** One client's life: join, a room, events with acks, then leave (abruptly, gracefully, or via recovery). */
async function clientLife(port, wave, index, counters) {
  const mode = ["websocket", "polling", "upgrade", "websocket", "polling"][index % 5];
  counters.byMode[mode]++;
  const room = `room-${wave}-${index % 20}`;
  let client = new LeanClient(port, mode, undefined, counters);
  try {
    const hello = await withTimeout(client.ready, "connect");
    counters.connected++;
    await client.emitWithAck("/", ["join", room]);
    for (let n = 0; n < 3; n++) {
      const answer = await client.emitWithAck("/", ["msg", { room, n }]);
      if (answer?.[0] === n) counters.acks++;
      else counters.failures.push(`wrong ack ${JSON.stringify(answer)}`);
    }
    if (index % 4 === 0) {
      const answer = await client.emitWithAck("/", ["bin"], Buffer.alloc(256 + index, 7));
      if (answer?.[0] === 256 + index) counters.acks++;
      else counters.failures.push(`wrong binary ack ${JSON.stringify(answer)}`);
    }
    if (index % 4 === 1) {
      await client.joinNamespace("/chat");
      await client.emitWithAck("/chat", ["join", room]);
      counters.acks++;
    }
    // Decorrelated from the mode (index % 5), so that every mode meets every ending.
    const ending = Math.floor(index / 5) % 10;
    if (ending < 6) {
      client.destroy();
      counters.abrupt++;
    } else if (ending < 8) {
      client.close();
      counters.graceful++;
    } else {
      // Abrupt, then back with the pid and offset: the same socket id must come back.
      client.destroy();
      if (hello?.pid === undefined || client.offset === undefined) {
        counters.abrupt++;
        return;
      }
      counters.recoveryAttempts++;
      const byMode = (counters.recoveryByMode[mode] ??= { tried: 0, recovered: 0 });
      byMode.tried++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      client = new LeanClient(port, mode === "upgrade" ? "polling" : mode, { pid: hello.pid, offset: client.offset }, counters);
      const again = await withTimeout(client.ready, "recovery");
      if (again?.sid === hello.sid) {
        counters.recovered++;
        byMode.recovered++;
      }
      client.destroy();
    }
  } catch (err) {
    counters.failures.push(`${mode}: ${err.message}`);
    client.destroy();
  }
}

async function runPool(count, concurrency, task) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------- orchestration

function startServer(opts) {
  const child = fork(fileURLToPath(import.meta.url), ["--server", "--dist", opts.dist], { execArgv: ["--expose-gc"], stdio: "inherit" });
  let nextId = 0;
  const waiting = new Map();
  child.on("message", (msg) => {
    if (msg.id !== undefined) {
      waiting.get(msg.id)?.resolve(msg.stats);
      waiting.delete(msg.id);
    }
  });
  // A server that dies (an uncaught exception is the worst failure) fails every pending question.
  child.on("exit", (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`the server process exited (${signal ?? code})`));
    waiting.clear();
  });
  const ready = new Promise((resolve, reject) => {
    child.once("message", (msg) => (msg.ready ? resolve(msg.port) : reject(new Error("server did not start"))));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  const ask = (cmd) =>
    withTimeout(
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error("the server process is gone"));
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        child.send({ cmd, id });
      }),
      cmd,
    );
  return { child, ready, ask };
}

/** Waits until the server has no session, no socket and no stored recovery state left. */
async function settle(ask, limitMs) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const s = await ask("stats");
    const nsps = Object.values(s.nsps);
    const idle = s.clientsCount === 0 && nsps.every((n) => n.sockets === 0 && n.sessions === 0 && n.packets === 0 && n.rooms === 0);
    if (idle || Date.now() > deadline) return Date.now() - (deadline - limitMs);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const MB = (n) => (n / 1024 / 1024).toFixed(2) + " MB";

function report(base, end, counters, waves, elapsed, settleMs) {
  const rows = [];
  const leaks = [];
  const row = (name, a, b, ok, fmt = String) => {
    rows.push([name, fmt(a), fmt(b), ok ? "ok" : "LEAK"]);
    if (!ok) leaks.push(name);
  };
  row("heap used (after GC)", base.heapUsed, end.heapUsed, end.heapUsed <= base.heapUsed + HEAP_TOLERANCE, MB);
  row("rss (information)", base.rss, end.rss, true, MB);
  row("timers (ref'd)", base.timers, end.timers, end.timers <= base.timers);
  row("TCP sockets", base.tcp, end.tcp, end.tcp <= base.tcp);
  row("engine sessions", base.clientsCount, end.clientsCount, end.clientsCount === 0);
  row("heartbeat list entries", base.heartbeat, end.heartbeat, end.heartbeat === 0);
  row("server Socket/session objects alive", base.alive, end.alive, end.alive <= base.alive);
  row("pending acks on live sockets", base.pendingAcks, end.pendingAcks, end.pendingAcks === 0);
  for (const name of Object.keys(end.nsps)) {
    const a = base.nsps[name] ?? { sockets: 0, rooms: 0, sids: 0, sessions: 0, packets: 0 };
    const b = end.nsps[name];
    for (const key of ["sockets", "rooms", "sids", "sessions", "packets"]) {
      row(`${name} adapter ${key === "sessions" ? "recovery sessions" : key === "packets" ? "stored packets" : key}`, a[key], b[key], b[key] === 0);
    }
  }
  const timed = end.acks.timedSent - base.acks.timedSent;
  const settled = end.acks.timedAnswered + end.acks.timedOut - base.acks.timedAnswered - base.acks.timedOut;
  row("server acks with timeout: sent / settled", timed, settled, timed === settled);

  const width = rows.reduce((w, r) => Math.max(w, r[0].length), 0);
  console.log(`\nSoak: ${waves} waves in ${(elapsed / 1000).toFixed(1)} s, settled in ${(settleMs / 1000).toFixed(1)} s`);
  console.log(
    `clients: ${counters.started} started (websocket ${counters.byMode.websocket}, polling ${counters.byMode.polling}, ` +
      `upgrade ${counters.byMode.upgrade}; ${counters.upgraded} upgraded), ${counters.connected} connected, ` +
      `${(counters.started / (elapsed / 1000)).toFixed(0)} clients/s`,
  );
  console.log(
    `left: ${counters.abrupt} abruptly, ${counters.graceful} gracefully, ${counters.recoveryAttempts} abruptly then back with pid/offset ` +
      `(recovered ${counters.recovered}: ${Object.entries(counters.recoveryByMode).map(([m, r]) => `${m} ${r.recovered}/${r.tried}`).join(", ")}; ` +
      `a polling client that drops between requests is only noticed by the heartbeat, so it may come back before its old session ended)`,
  );
  console.log(
    `acks: ${counters.acks} client acks received; server acks: ${end.acks.timedAnswered - base.acks.timedAnswered} answered, ` +
      `${end.acks.timedOut - base.acks.timedOut} timed out, ${end.acks.untimedSent - base.acks.untimedSent - (end.acks.untimedAnswered - base.acks.untimedAnswered)} without timeout released unanswered; ` +
      `${counters.roomEvents} room broadcasts received; server sockets created ${end.created - base.created}`,
  );
  console.log(
    `heap growth: ${((end.heapUsed - base.heapUsed) / 1024).toFixed(0)} KB over ${counters.started} clients ` +
      `(${((end.heapUsed - base.heapUsed) / counters.started).toFixed(1)} bytes per client; tolerance ${MB(HEAP_TOLERANCE)})`,
  );
  console.log("");
  console.log(`${"figure".padEnd(width)} | before     | after      | verdict`);
  console.log(`${"-".repeat(width)} | ---------- | ---------- | -------`);
  for (const [name, a, b, verdict] of rows) console.log(`${name.padEnd(width)} | ${a.padEnd(10)} | ${b.padEnd(10)} | ${verdict}`);
  if (counters.failures.length > 0) {
    const distinct = [...new Set(counters.failures)];
    console.log(`\n${counters.failures.length} client failures, e.g.: ${distinct.slice(0, 5).join("; ")}`);
  }
  return leaks;
}

async function main(opts) {
  const server = startServer(opts);
  const exitCode = await (async () => {
    const port = await server.ready;
    const counters = {
      started: 0,
      connected: 0,
      acks: 0,
      abrupt: 0,
      graceful: 0,
      upgraded: 0,
      recovered: 0,
      recoveryAttempts: 0,
      roomEvents: 0,
      byMode: { websocket: 0, polling: 0, upgrade: 0 },
      recoveryByMode: {},
      failures: [],
    };
    const settleLimit = PING_INTERVAL + PING_TIMEOUT + 2 * MAX_DISCONNECTION + 5000;
    const wave = async (n, size) => {
      counters.started += size;
      await runPool(size, opts.concurrency, (i) => clientLife(port, n, i, counters));
    };
    // Warm-up: code compiled, pools allocated; then the starting level.
    // Two full waves: most of what a first run allocates for good (compiled code, inline
    // caches, pools) is then part of the baseline, not of the growth.
    process.stdout.write("warm-up waves... ");
    await wave(0, opts.wave);
    await wave(0, opts.wave);
    await settle(server.ask, settleLimit);
    const base = await server.ask("gc-stats");
    console.log(`baseline: heap ${MB(base.heapUsed)}, ${base.timers} timers, ${base.tcp} TCP sockets`);
    for (const key of Object.keys(counters)) {
      if (typeof counters[key] === "number") counters[key] = 0;
    }
    counters.byMode = { websocket: 0, polling: 0, upgrade: 0 };
    counters.recoveryByMode = {};
    counters.failures = [];

    // Waves until the time left is what settling needs.
    const start = Date.now();
    const wavesUntil = start + Math.max(5, opts.duration - settleLimit / 1000 - 5) * 1000;
    let waves = 0;
    while (Date.now() < wavesUntil) {
      waves++;
      await wave(waves, opts.wave);
      process.stdout.write(`\rwave ${waves}: ${counters.started} clients, ${counters.failures.length} failures   `);
    }
    const elapsed = Date.now() - start;
    const settleMs = await settle(server.ask, settleLimit);
    const end = await server.ask("gc-stats");
    const leaks = report(base, end, counters, waves, elapsed, settleMs);
    if (leaks.length > 0) {
      console.log(`\nLEAK: ${leaks.join(", ")}`);
      return 1;
    }
    if (counters.failures.length > 0) {
      console.log("\nFAILED: some clients did not get through (see above)");
      return 3;
    }
    console.log("\nOK: everything returned to its starting level");
    return 0;
  })().catch((err) => {
    console.error(`\nrun error: ${err.stack ?? err}`);
    return 2;
  });
  if (server.child.exitCode === null && server.child.signalCode === null) {
    if (server.child.connected) server.child.send({ cmd: "exit" });
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        server.child.kill();
        resolve();
      }, 5000);
      server.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  process.exit(exitCode);
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const { WebSocket } = opts.server ? {} : require("ws");
if (opts.server) await runServer(opts);
else await main(opts);
