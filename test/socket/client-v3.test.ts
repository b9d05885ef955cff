/** socket.io-client v3 (protocol 5 over Engine.IO revision 4) against Volley. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startIo } from "../socket-helpers";
import { T, once, within } from "../helpers";

interface V3Socket {
  id: string;
  on(event: string, fn: (...args: unknown[]) => void): V3Socket;
  once(event: string, fn: (...args: unknown[]) => void): V3Socket;
  emit(event: string, ...args: unknown[]): V3Socket;
  disconnect(): V3Socket;
}
const connectV3 = require("socket.io-client-v3") as (url: string, opts?: object) => V3Socket;

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
  test(`socket.io-client v3 over ${transports.join("+")}: auth, events, acks, binary, rooms, namespaces`, async (t) => {
    const fx = await startIo();
    fx.io.of("/admin").use((socket, next) => next(socket.handshake.auth.token === "ok" ? undefined : new Error("denied")));
    fx.io.on("connection", (socket) => {
      void socket.join("room");
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
    const client = connectV3(fx.url, { transports, forceNew: true, reconnection: false, auth: { token: "t" } });
    const refused = connectV3(fx.url + "/admin", { transports, forceNew: true, reconnection: false, auth: { token: "no" } });
    const refusal = once<[Error & { data?: unknown }]>(refused, "connect_error");
    t.after(async () => {
      client.disconnect();
      refused.disconnect();
      await fx.close();
    });
    await within(once(client, "connect"), T, "connect");
    const [socket] = [...fx.io.sockets.sockets.values()];
    assert.deepEqual(socket.handshake.auth, { token: "t" });
    assert.equal(client.id, socket.id);
    const bytes = Buffer.from([1, 2, 3]);
    const echoed = await within(
      new Promise<unknown>((resolve) => client.emit("echo", { bytes, s: "é" }, resolve)),
      T,
      "ack",
    );
    assert.deepEqual((echoed as { s: string }).s, "é");
    assert.deepEqual(Buffer.from((echoed as { bytes: Uint8Array }).bytes), bytes);
    const news = once<[string]>(client, "news");
    fx.io.to("room").emit("news", "hi");
    assert.deepEqual(await within(news, T, "broadcast"), ["hi"]);
    const [err] = await within(refusal, T, "refusal");
    assert.equal(err.message, "denied");
    const gone = once<[string]>(client, "disconnect");
    socket.disconnect();
    assert.deepEqual(await within(gone, T, "disconnect"), ["io server disconnect"]);
  });
}
