// Three Volley processes behind Redis, and a client on each, with one command:
//   npm run build && npm run services     # once: dist/ and a local Redis
//   node examples/cluster/start.js        # nodes on ports 3001-3003, then the demo
//   node examples/cluster/start.js --once # the demo, then stop everything
// Environment: PORTS (default "3001,3002,3003"; 0 picks free ports), REDIS_URL, REDIS_KEY.
//
// Each node is examples/cluster/server.js in its own process. The demo connects one client
// to each node (the second one over HTTP long-polling), has each client send a chat line to
// its own node, and shows every line reaching the clients of every node through Redis.
const { fork } = require("node:child_process");
const path = require("node:path");
const { io: connect } = require("socket.io-client");

const NAMES = ["node-A", "node-B", "node-C", "node-D", "node-E"];

/** Rejects with `what` unless `promise` settles within `ms`. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Forks one node and resolves with `{ name, port, url, child }` once it listens. */
function forkNode(name, port, { host, redisUrl, key }) {
  const env = { ...process.env, PORT: String(port), HOST: host, NODE_NAME: name };
  if (redisUrl) env.REDIS_URL = redisUrl;
  if (key) env.REDIS_KEY = key;
  // stdout ignored: the nodes report over IPC; their errors go to this process's stderr.
  const child = fork(path.join(__dirname, "server.js"), [], { env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const ready = new Promise((resolve, reject) => {
    child.on("message", (msg) => {
      if (msg && msg.ready) resolve({ name, port: msg.port, url: `http://${host}:${msg.port}`, child });
    });
    child.once("exit", (code, signal) => reject(new Error(`${name} exited before listening (${code ?? signal})`)));
  });
  return { child, ready: within(ready, 10_000, `${name} listening`) };
}

/** Ends a node: SIGTERM (it closes its server and Redis clients), SIGKILL if that takes too long. */
async function stopNode(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  try {
    await within(exited, 5000, "node exit");
  } catch {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * Starts one node per entry of `ports`; resolves with `{ nodes, stop() }`. If one node
 * fails to start, the others are stopped and the error is rethrown.
 */
async function startNodes({ ports = [3001, 3002, 3003], host = "127.0.0.1", redisUrl, key } = {}) {
  const forks = ports.map((port, i) => forkNode(NAMES[i] ?? `node-${i + 1}`, port, { host, redisUrl, key }));
  const stop = () => Promise.all(forks.map((f) => stopNode(f.child)));
  try {
    const nodes = await Promise.all(forks.map((f) => f.ready));
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Connects a socket.io client and resolves with it and its node's welcome. */
async function client(label, url, opts) {
  const socket = connect(url, { forceNew: true, reconnection: false, ...opts });
  const welcome = new Promise((resolve, reject) => {
    socket.once("welcome", resolve);
    socket.once("connect_error", reject);
  });
  try {
    return { label, socket, welcome: await within(welcome, 5000, `${label} connecting to ${url}`) };
  } catch (err) {
    socket.disconnect();
    throw err;
  }
}

/**
 * The demo: a client on each node, one chat line from each, every line received by every
 * client. `log` gets the story line by line. Resolves with what each client received:
 * `[{ label, node, received: [{ text, via, from }] }]`.
 */
async function demo(nodes, log = console.log) {
  const clients = [];
  try {
    for (const [i, node] of nodes.entries()) {
      const transports = i === 1 ? ["polling"] : ["websocket"];
      const c = await client(`client ${i + 1}`, node.url, { transports });
      clients.push(c);
      log(`${c.label} connected to ${c.welcome.node} (${transports[0]})`);
    }
    // The adapters subscribe to Redis asynchronously: wait until every node counts them all.
    await within(
      (async () => {
        for (;;) {
          const counts = await Promise.all(clients.map((c) => c.socket.timeout(2000).emitWithAck("servers")));
          if (counts.every((n) => n === nodes.length)) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
      5000,
      `every node counting ${nodes.length} servers`,
    );
    log(`every node sees ${nodes.length} servers on Redis`);

    const senderOf = new Map(clients.map((c) => [c.socket.id, c]));
    const lines = clients.map((c) => `hello from ${c.label}`);
    const everything = clients.map(
      (c) =>
        new Promise((resolve) => {
          const received = [];
          c.socket.on("chat", (msg) => {
            received.push(msg);
            log(`  ${c.label} on ${c.welcome.node} got "${msg.text}" (sent by ${senderOf.get(msg.from)?.label ?? msg.from} via ${msg.via})`);
            if (received.length === lines.length) resolve({ label: c.label, node: c.welcome.node, received });
          });
        }),
    );
    for (const [i, c] of clients.entries()) {
      log(`${c.label} sends "${lines[i]}" to ${c.welcome.node}`);
      await within(c.socket.timeout(2000).emitWithAck("chat", lines[i]), 3000, `${c.label}'s chat line acknowledged`);
    }
    const results = await within(Promise.all(everything), 5000, "every chat line reaching every client");

    const who = await within(clients[0].socket.timeout(3000).emitWithAck("who"), 4000, "fetchSockets across nodes");
    log(`fetchSockets() on ${clients[0].welcome.node} lists ${who.length} sockets: ${who.map((s) => `${s.id} on ${s.node}`).join(", ")}`);
    return results;
  } finally {
    for (const c of clients) c.socket.disconnect();
  }
}

async function main() {
  const once = process.argv.includes("--once");
  const ports = (process.env.PORTS ?? "3001,3002,3003").split(",").map(Number);
  const { nodes, stop } = await startNodes({ ports, redisUrl: process.env.REDIS_URL, key: process.env.REDIS_KEY });
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(code);
  };
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  for (const node of nodes) console.log(`${node.name} listening on ${node.url} (pid ${node.child.pid})`);
  try {
    await demo(nodes);
    console.log("demo done: every chat line reached the clients of every node");
  } catch (err) {
    console.error(`demo failed: ${err.message}`);
    return shutdown(1);
  }
  if (once) return shutdown(0);
  console.log(`the nodes keep running: connect clients to ${nodes.map((n) => n.url).join(", ")}; Ctrl-C stops them`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

module.exports = { startNodes, demo };
