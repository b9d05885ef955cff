/**
 * examples/fastify: the app's routes (a JSON POST that emits to sockets, the framework's own
 * 404) keep working next to Socket.IO over WebSocket and polling, and so does another
 * upgrade handler on the same HTTP server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkFrameworkExample, loadExample, type Running } from "./util";

const { start } = loadExample<{ start(port: number, host?: string): Promise<Running> }>("fastify");

test("fastify example: routes, sockets and other upgrades share one server", async (t) => {
  const running = await start(0, "127.0.0.1");
  t.after(() => running.close());
  await checkFrameworkExample(running, (res, path) => {
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.text), { message: `Route GET:${path} not found`, error: "Not Found", statusCode: 404 });
  });
});
