// Hapi example: Volley on the HTTP server hapi creates (`server.listener`), one port for both.
// `npm run build` once, then `node examples/hapi/server.js`.
const Hapi = require("@hapi/hapi");
const { Server } = require("../../dist");

/** Starts hapi and Volley on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host) {
  const server = Hapi.server({ port, host });
  // Attach before start(): Volley answers /socket.io/ and hands every other request to hapi.
  const io = new Server(server.listener);

  server.route({
    method: "GET",
    path: "/api/status",
    handler: () => ({ clients: io.engine.clientsCount }),
  });
  // A hapi route that talks to every connected socket.
  server.route({
    method: "POST",
    path: "/api/announce",
    handler: (request) => {
      io.emit("announcement", String(request.payload.text));
      return { sent: true };
    },
  });

  io.on("connection", (socket) => {
    socket.on("echo", (text, ack) => {
      if (typeof ack === "function") ack(`${text} (via ${socket.conn.transport.name})`);
    });
  });

  await server.start();
  return {
    server,
    io,
    httpServer: server.listener,
    port: server.info.port,
    close: async () => {
      // Disconnect the sockets first, so that hapi's stop() has no long-lived connection to wait for.
      io.disconnectSockets(true);
      io.engine.close();
      await server.stop();
    },
  };
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`hapi example on http://localhost:${port}`));
}

module.exports = { start };
