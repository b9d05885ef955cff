// Fastify example: Volley on the HTTP server Fastify creates (`app.server`), one port for both.
// `npm run build` once, then `node examples/fastify/server.js`.
const Fastify = require("fastify");
const { Server } = require("../../dist");

/** Starts Fastify and Volley on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host = "localhost") {
  const app = Fastify();
  // app.server exists as soon as Fastify is created; Volley answers /socket.io/ and hands
  // every other request to Fastify's router.
  const io = new Server(app.server);
  // Close the sockets when Fastify closes, so that app.close() has nothing long-lived to wait for.
  app.addHook("preClose", (done) => {
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });

  app.get("/api/status", async () => ({ clients: io.engine.clientsCount }));
  // A Fastify route that talks to every connected socket.
  app.post("/api/announce", async (request) => {
    io.emit("announcement", String(request.body.text));
    return { sent: true };
  });

  io.on("connection", (socket) => {
    socket.on("echo", (text, ack) => {
      if (typeof ack === "function") ack(`${text} (via ${socket.conn.transport.name})`);
    });
  });

  await app.listen({ port, host });
  return { app, io, httpServer: app.server, port: app.server.address().port, close: () => app.close() };
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`fastify example on http://localhost:${port}`));
}

module.exports = { start };
