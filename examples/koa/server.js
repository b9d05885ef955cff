// Koa example: a Koa app and Volley on one HTTP server and port.
// `npm run build` once, then `node examples/koa/server.js`.
const http = require("node:http");
const Koa = require("koa");
const Router = require("@koa/router");
const { Server } = require("../../dist");

/** Starts the app on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host) {
  const app = new Koa();
  const router = new Router();
  router.get("/api/status", (ctx) => {
    ctx.body = { clients: io.engine.clientsCount };
  });
  // A Koa route that talks to every connected socket.
  router.post("/api/announce", async (ctx) => {
    const { text } = JSON.parse(await readBody(ctx.req));
    io.emit("announcement", String(text));
    ctx.body = { sent: true };
  });
  app.use(router.routes()).use(router.allowedMethods());

  // Koa apps are request handlers: give Volley the http.Server that runs app.callback()
  // (called once the middlewares are in place: it composes them).
  const httpServer = http.createServer(app.callback());
  const io = new Server(httpServer);

  io.on("connection", (socket) => {
    socket.on("echo", (text, ack) => {
      if (typeof ack === "function") ack(`${text} (via ${socket.conn.transport.name})`);
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { app, io, httpServer, port: httpServer.address().port, close: () => io.close() };
}

/** Koa has no body parser built in (koa-bodyparser is the usual one); this is enough here. */
async function readBody(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`koa example on http://localhost:${port}`));
}

module.exports = { start };
