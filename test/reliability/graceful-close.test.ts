/**
 * io.close() is graceful: buffered packets reach the clients before their connection
 * closes, new sessions are refused while closing, and the Promise resolves once
 * everything (sockets, engine, HTTP server) is closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startIo } from "../socket-helpers";
import { T, once, within } from "../helpers";

for (const transports of [["websocket"], ["polling"]]) {
  test(`io.close() delivers what was emitted just before it (${transports[0]})`, async () => {
    const fx = await startIo();
    const clients = [fx.client("/", { transports }), fx.client("/", { transports })];
    await within(Promise.all(clients.map((c) => once(c, "connect"))), T, "connect");
    const got: string[][] = clients.map(() => []);
    clients.forEach((c, i) => c.on("bye", (n: number) => got[i].push(`bye${n}`)));
    const reasons = clients.map((c) => once<[string]>(c, "disconnect"));
    const serverReasons: string[] = [];
    for (const socket of fx.io.sockets.sockets.values()) socket.on("disconnect", (r) => serverReasons.push(r));
    for (let n = 0; n < 3; n++) fx.io.emit("bye", n);
    await within(fx.io.close(), T, "io.close()");
    const clientReasons = await within(Promise.all(reasons), T, "client disconnects");
    for (const list of got) assert.deepEqual(list, ["bye0", "bye1", "bye2"]);
    assert.deepEqual(serverReasons, ["server shutting down", "server shutting down"]);
    for (const [reason] of clientReasons) assert.equal(reason, "transport close");
    assert.equal(fx.io.engine.clientsCount, 0);
    assert.equal(fx.http.listening, false);
    for (const c of clients) c.disconnect();
  });
}

test("a handshake arriving while the engine shuts down is refused", async (t) => {
  const fx = await startIo({ transports: ["polling"] });
  t.after(() => fx.close());
  const client = fx.client("/", { transports: ["polling"] });
  await within(once(client, "connect"), T, "connect");
  // Keep the HTTP server listening: shut the engine down alone, then try a handshake.
  const shutting = fx.io.engine.shutdown(500);
  const status = await new Promise<number>((resolve, reject) => {
    request(`${fx.url}/socket.io/?EIO=4&transport=polling`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
  assert.equal(status, 400);
  await shutting;
});
