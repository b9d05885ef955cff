/**
 * examples/express: Express routes, its JSON body parser and 404 page, and Volley on the
 * same port (WebSocket and polling clients, a route emitting to sockets, the client
 * bundle, another upgrade handler), plus `io.engine.use` running an Express-style
 * middleware for Socket.IO's own requests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "../../src/index";
import { checkFrameworkExample, connected, http, loadExample, type Running } from "./util";

const { start } = loadExample<{ start(port: number, host?: string): Promise<Running & { io: Server }> }>("express");

test("express example: routes, sockets and other upgrades share one server", async (t) => {
  const running = await start(0, "127.0.0.1");
  t.after(() => running.close());
  const page = await http(`http://127.0.0.1:${running.port}/`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<script src="\/socket.io\/socket.io.js">/);

  await checkFrameworkExample(running, (res, path) => {
    assert.equal(res.status, 404);
    assert.ok(res.text.includes(`<pre>Cannot GET ${path}</pre>`)); // Express's own 404 page
  });
});

test("express example: the engine middleware ran for the Socket.IO handshake", async (t) => {
  const running = await start(0, "127.0.0.1");
  const before = Date.now();
  const socket = await connected(`http://127.0.0.1:${running.port}`, { transports: ["polling"] });
  t.after(async () => {
    socket.disconnect();
    await running.close();
  });
  const [server] = running.io.sockets.sockets.values();
  const startedAt = (server.request as { startedAt?: number }).startedAt;
  assert.equal(typeof startedAt, "number");
  assert.ok(startedAt! >= before);
});
