import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket as Client } from "engine.io-client";
import { T, startEngine, once, within } from "../helpers";

test("engine.io-client connects and echoes a message", async (t) => {
  const fx = await startEngine();
  t.after(() => fx.close());
  fx.engine.on("connection", (socket) => socket.on("message", (m: unknown) => socket.send(m as string)));
  const client = new Client(fx.url);
  await within(once(client, "open"), T, "open");
  client.send("hello");
  const [msg] = await within(once<[string]>(client, "message"), T, "echo");
  assert.equal(msg, "hello");
  client.close();
});
