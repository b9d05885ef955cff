/**
 * examples/hapi: Volley on hapi's `server.listener`; hapi's routes (JSON payloads, its 404
 * reply) keep working next to Socket.IO over WebSocket and polling, and so does another
 * upgrade handler on the same listener.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkFrameworkExample, loadExample, type Running } from "./util";

const { start } = loadExample<{ start(port: number, host?: string): Promise<Running> }>("hapi");

test("hapi example: routes, sockets and other upgrades share one server", async (t) => {
  const running = await start(0, "127.0.0.1");
  t.after(() => running.close());
  await checkFrameworkExample(running, (res) => {
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.text), { statusCode: 404, error: "Not Found", message: "Not Found" });
  });
});
