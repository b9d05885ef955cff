// Engine echo example: an Engine.IO server on http://localhost:3000 with a page that talks to it.
// Run with `npm start` from the repository root.
const http = require("node:http");
const { readFileSync } = require("node:fs");
const path = require("node:path");
const { attach } = require("../../dist/engine");

const page = readFileSync(path.join(__dirname, "index.html"));
const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(page);
});
const engine = attach(server, { path: "/engine.io" });

engine.on("connection", (socket) => {
  socket.send(`welcome, you are ${socket.id} on ${socket.transport.name}`);
  socket.on("upgrade", (t) => socket.send(`upgraded to ${t.name}`));
  socket.on("message", (data) => socket.send(typeof data === "string" ? `echo: ${data}` : data));
});

const port = Number(process.env.PORT) || 3000;
server.listen(port, () => console.log(`engine echo on http://localhost:${port}`));
