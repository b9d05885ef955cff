// One Volley node of the Redis cluster example. `node examples/cluster/start.js` forks three
// of them (ports 3001-3003); one can also be started alone:
//   PORT=3004 NODE_NAME=node-4 node examples/cluster/server.js
// Every node uses @socket.io/redis-adapter on the same Redis, so `io.emit()` on any node
// reaches the clients of every node, and `io.fetchSockets()` sees the sockets of all of them.
const http = require("node:http");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Server } = require("../../dist");

/**
 * Starts a node on `port` (0 picks a free one). `redisUrl` and `key` (the prefix of the
 * adapter's Redis channels) must be the same on every node of one cluster.
 */
async function start(port = 3001, host = "127.0.0.1", { name = `node-${port}`, redisUrl = "redis://127.0.0.1:6379", key = "socket.io" } = {}) {
  // Two connections: a Redis connection in subscriber mode cannot publish.
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  let connecting = true;
  let lastError;
  for (const client of [pubClient, subClient]) {
    client.on("error", (err) => {
      lastError = err;
      // The client reconnects by itself; once the node runs, say so when it happens.
      if (!connecting) console.error(`${name}: redis: ${err.message}`);
    });
  }
  // node-redis retries a refused connection forever: give up after a while instead.
  let timer;
  const giveUp = new Promise((_, reject) => {
    timer = setTimeout(() => {
      pubClient.destroy();
      subClient.destroy();
      reject(new Error(`cannot reach Redis at ${redisUrl} (${lastError?.message ?? "timeout"}); is it running? (npm run services)`));
    }, 5000);
  });
  try {
    await Promise.race([Promise.all([pubClient.connect(), subClient.connect()]), giveUp]);
  } finally {
    clearTimeout(timer);
    connecting = false;
  }

  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient, { key }) });

  io.on("connection", (socket) => {
    socket.data = { node: name };
    socket.emit("welcome", { node: name, id: socket.id });

    // A chat line goes to every client of the cluster, whichever node it is connected to.
    socket.on("chat", (text, ack) => {
      io.emit("chat", { text: String(text).slice(0, 200), from: socket.id, via: name });
      if (typeof ack === "function") ack({ ok: true });
    });

    // How many nodes share the Redis channels (the adapter asks Redis: PUBSUB NUMSUB).
    socket.on("servers", async (ack) => {
      if (typeof ack === "function") ack(await io.of("/").adapter.serverCount());
    });

    // Every socket of the cluster: the local ones, and the remote ones asked over Redis.
    socket.on("who", async (ack) => {
      const sockets = await io.fetchSockets();
      if (typeof ack === "function") ack(sockets.map((s) => ({ id: s.id, node: s.data.node })));
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return {
    io,
    name,
    port: httpServer.address().port,
    async close() {
      // Closing the server closes the adapter (it unsubscribes); the Redis clients are ours.
      await io.close();
      await Promise.all([pubClient.close(), subClient.close()]);
    },
  };
}

if (require.main === module) {
  const port = process.env.PORT === undefined ? 3001 : Number(process.env.PORT);
  const options = { name: process.env.NODE_NAME, redisUrl: process.env.REDIS_URL, key: process.env.REDIS_KEY };
  for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
  start(port, process.env.HOST ?? "127.0.0.1", options).then(
    (node) => {
      // Forked by start.js: report over IPC, and end with the parent. Alone: print.
      if (process.send) {
        process.send({ ready: true, name: node.name, port: node.port });
        process.on("disconnect", () => process.exit(0));
      } else {
        console.log(`${node.name} on http://127.0.0.1:${node.port}`);
      }
      let closing = false;
      const stop = () => {
        if (closing) return;
        closing = true;
        node.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    },
    (err) => {
      console.error(`cannot start the node: ${err.message}`);
      process.exit(1);
    },
  );
}

module.exports = { start };
