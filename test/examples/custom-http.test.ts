/**
 * examples/custom-http: a bare `http.createServer` with its own routes and its own `ws`
 * endpoint (/raw, noServer) next to Volley on one port. Its routes and 404, the raw
 * WebSocket (text and binary), Socket.IO over WebSocket and polling, and messages crossing
 * from the raw endpoint to Socket.IO clients. An upgrade nobody takes is closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { WebSocket } from "ws";
import { within } from "../helpers";
import { ack, assertWebSocketEcho, connected, http, loadExample, next, upgraded, type Running, T } from "./util";

const { start } = loadExample<{ start(port: number, host?: string): Promise<Running> }>("custom-http");

test("custom-http example: own routes, own WebSocket endpoint and Socket.IO on one port", async () => {
  const running = await start(0, "127.0.0.1");
  const base = `http://127.0.0.1:${running.port}`;
  const clients: ClientSocket[] = [];
  try {
    const ws = await connected(base, {}, clients);
    await upgraded(ws);
    const polling = await connected(base, { transports: ["polling"] }, clients);
    assert.equal(await ack(ws, "echo", "a"), "a (via websocket)");
    assert.equal(await ack(polling, "echo", "b"), "b (via polling)");

    const health = await http(`${base}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.text), { ok: true, sockets: 2, raw: 0 });
    for (const path of ["/", "/socket.iox", "/raw"]) {
      const res = await http(base + path);
      assert.deepEqual([res.status, res.text], [404, "custom 404"], path);
    }

    // A raw WebSocket message is echoed and relayed to the Socket.IO clients.
    const relayed = Promise.all([next(ws, "raw"), next(polling, "raw")]);
    await assertWebSocketEcho(`ws://127.0.0.1:${running.port}/raw`, "hello");
    assert.deepEqual(await relayed, ["hello", "hello"]);
    await assertWebSocketEcho(`ws://127.0.0.1:${running.port}/raw?x=1`, "query string");

    // Binary frames pass through untouched.
    const rawWs = new WebSocket(`ws://127.0.0.1:${running.port}/raw`);
    try {
      const echoed = new Promise<Buffer>((resolve, reject) => {
        rawWs.once("open", () => rawWs.send(Buffer.from([0, 1, 255])));
        rawWs.once("message", (data: Buffer) => resolve(data));
        rawWs.once("error", reject);
      });
      assert.deepEqual([...(await within(echoed, T, "binary echo"))], [0, 1, 255]);
    } finally {
      rawWs.terminate();
    }
    assert.equal(await ack(ws, "echo", "c"), "c (via websocket)");
  } finally {
    for (const c of clients) c.disconnect();
    await running.close();
  }
});

test("custom-http example: an upgrade to a path nobody serves is closed, not left hanging", async (t) => {
  const running = await start(0, "127.0.0.1");
  const stray = new WebSocket(`ws://127.0.0.1:${running.port}/nobody`);
  t.after(async () => {
    stray.terminate();
    await running.close();
  });
  const ended = new Promise<string>((resolve) => {
    stray.once("open", () => resolve("open"));
    stray.once("error", (err) => resolve(`error: ${err.message}`));
  });
  // Volley's destroyUpgradeTimeout (1 s by default) lets other handlers answer first.
  assert.match(await within(ended, 3000, "stray upgrade"), /^error: /);
});
