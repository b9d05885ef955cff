// Chat example: `npm start` from the repository root, then open http://localhost:3000.
// Nicknames, rooms, a typing indicator, acknowledged messages and reconnect status.
const http = require("node:http");
const { readFileSync } = require("node:fs");
const path = require("node:path");
const { Server } = require("../../dist");

const page = readFileSync(path.join(__dirname, "public", "index.html"));

function createChatServer() {
  const httpServer = http.createServer((req, res) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname === "/" || pathname === "/index.html") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(page);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });

  const io = new Server(httpServer, { connectionStateRecovery: {} });
  const ROOMS = ["general", "random", "help"];

  io.on("connection", (socket) => {
    if (!socket.recovered) socket.data = { nick: `guest-${socket.id.slice(0, 4)}`, room: "general" };
    void socket.join(socket.data.room);
    socket.emit("rooms", ROOMS);
    socket.emit("joined", { room: socket.data.room, nick: socket.data.nick });

    socket.on("nick", (nick, ack) => {
      const clean = String(nick).trim().slice(0, 24);
      if (!clean) return typeof ack === "function" && ack({ ok: false, error: "empty nickname" });
      const old = socket.data.nick;
      socket.data.nick = clean;
      io.to(socket.data.room).emit("system", `${old} is now ${clean}`);
      if (typeof ack === "function") ack({ ok: true, nick: clean });
    });

    socket.on("join", (room, ack) => {
      if (!ROOMS.includes(room)) return typeof ack === "function" && ack({ ok: false, error: "no such room" });
      void socket.leave(socket.data.room);
      socket.to(socket.data.room).emit("system", `${socket.data.nick} left`);
      socket.data.room = room;
      void socket.join(room);
      socket.to(room).emit("system", `${socket.data.nick} joined`);
      if (typeof ack === "function") ack({ ok: true, room });
    });

    socket.on("message", (text, ack) => {
      const message = { nick: socket.data.nick, text: String(text).slice(0, 500), at: Date.now() };
      io.to(socket.data.room).emit("message", message);
      if (typeof ack === "function") ack({ ok: true, at: message.at });
    });

    socket.on("typing", (typing) => {
      socket.to(socket.data.room).volatile.emit("typing", { nick: socket.data.nick, typing: !!typing });
    });
  });

  return { httpServer, io };
}

/** Creates the chat server and listens on `port` (0 picks a free one); resolves once it listens. */
async function start(port = 3000, host) {
  const { httpServer, io } = createChatServer();
  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(port, host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  return { httpServer, io, port: httpServer.address().port, close: () => io.close() };
}

if (require.main === module) {
  start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`chat on http://localhost:${port}`));
}

module.exports = { createChatServer, start };
