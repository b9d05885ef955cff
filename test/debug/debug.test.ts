/**
 * DEBUG=volley:* shows what each layer does, as DEBUG=socket.io:*,engine* does for the
 * official server: a child process runs a server and a socket.io-client through a session
 * (handshake, upgrade, namespace connection, 200 acknowledged events, disconnection) and
 * its stderr holds lines from the engine, engine socket, server, client, namespace and
 * socket layers, but none per packet (the line count does not grow with the events).
 * Without DEBUG nothing is printed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../examples/util";

// The compiled sources of this test build (build*/src), not dist/.
const INDEX = join(__dirname, "..", "..", "src", "index.js");

const SCRIPT = `
const http = require("node:http");
const { Server } = require(process.env.VOLLEY_INDEX);
const { io: connect } = require("socket.io-client");
const httpServer = http.createServer();
const io = new Server(httpServer);
io.on("connection", (socket) => socket.on("ping", (n, ack) => ack(n)));
httpServer.listen(0, "127.0.0.1", async () => {
  const client = connect("http://127.0.0.1:" + httpServer.address().port, { reconnection: false });
  await new Promise((resolve) => client.on("connect", resolve));
  if (client.io.engine.transport.name !== "websocket") await new Promise((resolve) => client.io.engine.once("upgrade", resolve));
  for (let i = 0; i < 200; i++) await client.emitWithAck("ping", i);
  const [serverSocket] = io.sockets.sockets.values();
  const gone = new Promise((resolve) => serverSocket.once("disconnect", resolve));
  client.disconnect();
  await gone;
  await io.close();
});
`;

function runChild(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", SCRIPT], { cwd: ROOT, env, timeout: 15000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(stderr);
    });
  });
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VOLLEY_INDEX: INDEX, DEBUG_COLORS: "0" };
  delete env.DEBUG;
  return env;
}

test("DEBUG=volley:* prints what each layer does, and nothing per packet", async () => {
  const stderr = await runChild({ ...baseEnv(), DEBUG: "volley:*" });
  const lines = stderr.split("\n").filter((l) => l.includes(" volley:"));
  // Without a TTY, debug prints "<ISO date> <namespace> <message>".
  const seen = (namespace: string, pattern: RegExp) =>
    assert.ok(
      lines.some((l) => l.split(" ")[1] === namespace && pattern.test(l)),
      `no ${namespace} line matching ${pattern} in:\n${lines.join("\n")}`,
    );
  seen("volley:namespace", /new namespace \/$/);
  seen("volley:engine", /new session \S+ \(Engine\.IO revision 4, polling\)/);
  seen("volley:server", /incoming connection \S+/);
  seen("volley:client", /\S+ connecting to namespace \/$/);
  seen("volley:socket", /\S+ connected to \/$/);
  seen("volley:engine:socket", /\S+ upgraded to websocket/);
  seen("volley:socket", /\S+ disconnected from \/: client namespace disconnect/);
  seen("volley:engine:socket", /\S+ closed: /);
  // 200 events and their acks went by: a per-packet line would make hundreds.
  assert.ok(lines.length < 30, `${lines.length} debug lines:\n${lines.join("\n")}`);
});

test("without DEBUG nothing is printed", async () => {
  assert.equal(await runChild(baseEnv()), "");
});
