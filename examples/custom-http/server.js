// A bare Node HTTP server with its own routes, its own WebSocket endpoint (`ws`, /raw) and
// Volley (/socket.io/), all on one port. `npm run build` once, then `node examples/custom-http/server.js`.
const http = require("node:http");
const { WebSocketServer } = require("ws");
const { Server } = require("../../dist");

/** Starts everything on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host) {
  const httpServer = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/health") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ok: true, sockets: io.engine.clientsCount, raw: raw.clients.size }));
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("custom 404");
  });

  // Volley wraps the request listener above: it answers /socket.io/ and passes the rest on.
  const io = new Server(httpServer);
  io.on("connection", (socket) => {
    socket.on("echo", (text, ack) => {
      if (typeof ack === "function") ack(`${text} (via ${socket.conn.transport.name})`);
    });
  });

  // A plain WebSocket endpoint next to Socket.IO. `noServer` plus an `upgrade` listener that
  // takes only its own path is how `ws` shares a server: Volley handles /socket.io/ upgrades
  // and leaves every other upgrade to the other listeners.
  const raw = new WebSocketServer({ noServer: true });
  raw.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => {
      // Relay raw messages to the Socket.IO clients as well, to show both living together.
      if (!isBinary) io.emit("raw", String(data));
      ws.send(isBinary ? data : `echo: ${data}`, { binary: isBinary });
    });
  });
  httpServer.on("upgrade", (req, socket, head) => {
    if (new URL(req.url, "http://localhost").pathname !== "/raw") return;
    raw.handleUpgrade(req, socket, head, (ws) => raw.emit("connection", ws, req));
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return {
    io,
    raw,
    httpServer,
    port: httpServer.address().port,
    close: async () => {
      for (const ws of raw.clients) ws.terminate();
      raw.close();
      await io.close();
    },
  };
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`custom http example on http://localhost:${port}`));
}

module.exports = { start };
