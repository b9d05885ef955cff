// Express example: an Express app and Volley on one HTTP server and port.
// `npm run build` once, then `node examples/express/server.js` and open http://localhost:3000.
const http = require("node:http");
const express = require("express");
const { Server } = require("../../dist");

const page = `<!doctype html><meta charset="utf-8"><title>Volley + Express</title>
<ul id="log"></ul>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  function log(text) {
    const li = document.createElement("li");
    li.textContent = text;
    document.getElementById("log").append(li);
  }
  socket.on("connect", () => socket.emit("echo", "hello from the page", (reply) => log("ack: " + reply)));
  socket.on("announcement", (text) => log("announcement: " + text));
</script>`;

/** Starts the app on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host) {
  const app = express();
  app.use(express.json());
  app.get("/", (_req, res) => res.type("html").send(page));
  app.get("/api/status", (_req, res) => res.json({ clients: io.engine.clientsCount }));
  // An HTTP route that talks to every connected socket.
  app.post("/api/announce", (req, res) => {
    io.emit("announcement", String(req.body.text));
    res.json({ sent: true });
  });

  // Express apps are request handlers: give Volley the http.Server that runs the app, not the app.
  const httpServer = http.createServer(app);
  const io = new Server(httpServer);

  // Express middlewares can run for Socket.IO's own HTTP requests too (polling and upgrades).
  io.engine.use((req, _res, next) => {
    req.startedAt = Date.now();
    next();
  });

  io.on("connection", (socket) => {
    socket.on("echo", (text, ack) => {
      if (typeof ack === "function") ack(`${text} (via ${socket.conn.transport.name})`);
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return {
    app,
    io,
    httpServer,
    port: httpServer.address().port,
    // io.close() disconnects every socket and closes the HTTP server.
    close: () => io.close(),
  };
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`express example on http://localhost:${port}`));
}

module.exports = { start };
