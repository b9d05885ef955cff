// A Socket.IO server for the socket benchmark, forked by bench/socket.mjs.
//
//   node --expose-gc bench/socket-server.mjs <volley|socket.io> <port>
//   BENCH_DROP_REQUEST=1 ...   drop each session's HTTP request, as socket.io's docs suggest
//
// Listens on 127.0.0.1:<port> (0 = any free port) with default options (path /socket.io).
// The app is the same for both implementations:
//   - a client whose CONNECT auth has `half` truthy joins the room "half";
//   - `echo` events are acknowledged with their first argument (text or binary);
//   - broadcasts of the event "bc" are triggered over IPC (see bench/server-control.mjs).
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { announce, serveControl } from "./server-control.mjs";

const require = createRequire(import.meta.url);
const [impl, portArg = "0"] = process.argv.slice(2);

const modules = {
  volley: "../dist/index.js",
  "socket.io": "socket.io",
};
if (!Object.hasOwn(modules, impl)) {
  console.error(`usage: socket-server.mjs <${Object.keys(modules).join("|")}> <port>`);
  process.exit(2);
}
const { Server } = require(modules[impl]);

const httpServer = createServer();
const io = new Server(httpServer);

const sessionClosed = serveControl({
  clientsCount: () => io.engine.clientsCount,
  emit: (target, payload) => (target === "room" ? io.to("half").emit("bc", payload) : io.emit("bc", payload)),
  close: () => {
    io.close();
    httpServer.close();
  },
});

// Shared handlers, no closure per connection (the app should not dominate the memory figure).
function echo(data, ack) {
  if (typeof ack === "function") ack(data);
}

// BENCH_DROP_REQUEST=1: socket.io's documented memory tip (both servers honour it).
if (process.env.BENCH_DROP_REQUEST === "1") {
  io.engine.on("connection", (rawSocket) => {
    rawSocket.request = null;
  });
}

io.on("connection", (socket) => {
  if (socket.handshake.auth?.half) socket.join("half");
  socket.on("echo", echo);
  socket.on("disconnect", sessionClosed);
});

httpServer.listen(Number(portArg), "127.0.0.1", () => announce(httpServer.address().port));
