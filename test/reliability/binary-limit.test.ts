/** maxHttpBufferSize also bounds a reassembled binary packet (the sum of its attachments). */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Socket as EngineClient } from "engine.io-client";
import { startIo } from "../socket-helpers";
import { T, once, within } from "../helpers";

/** A raw Engine.IO client joined to "/" of a server with a 10 000-byte limit, and its socket. */
async function joinedRaw(t: TestContext, transports: string[]) {
  const fx = await startIo({ maxHttpBufferSize: 10_000 });
  const raw = new EngineClient(fx.url, { path: "/socket.io/", transports });
  t.after(async () => {
    raw.close();
    await fx.close();
  });
  await within(once(raw, "open"), T, "open");
  const connected = once<[import("../../src/index").Socket]>(fx.io, "connection");
  raw.send("0");
  const [socket] = await within(connected, T, "connection");
  return { raw, socket };
}

for (const transports of [["websocket"], ["polling"]]) {
  test(`attachments summing past maxHttpBufferSize close the connection with parse error (${transports[0]})`, async (t) => {
    const { raw, socket } = await joinedRaw(t, transports);
    const reason = once<[string, Error]>(socket, "disconnect");
    // Three attachments of 6000 bytes: each under the limit, together over it.
    const placeholders = [0, 1, 2].map((num) => ({ _placeholder: true, num }));
    raw.send(`53-${JSON.stringify(["big", ...placeholders])}`);
    for (let i = 0; i < 3; i++) raw.send(Buffer.alloc(6000, i));
    const [why, description] = await within(reason, T, "disconnect");
    assert.equal(why, "parse error");
    assert.match(description.message, /maxHttpBufferSize/);
  });

  test(`attachments within maxHttpBufferSize are delivered (${transports[0]})`, async (t) => {
    const { raw, socket } = await joinedRaw(t, transports);
    const got = once<Buffer[]>(socket, "big");
    const placeholders = [0, 1].map((num) => ({ _placeholder: true, num }));
    raw.send(`52-${JSON.stringify(["big", ...placeholders])}`);
    for (let i = 0; i < 2; i++) raw.send(Buffer.alloc(4000, i));
    const args = await within(got, T, "event");
    assert.equal(args.length, 2);
    assert.equal(args[1].length, 4000);
    // A second packet after the first: the count starts again.
    const again = once<Buffer[]>(socket, "big");
    raw.send(`52-${JSON.stringify(["big", ...placeholders])}`);
    for (let i = 0; i < 2; i++) raw.send(Buffer.alloc(4000, i));
    assert.equal((await within(again, T, "second event")).length, 2);
  });
}
