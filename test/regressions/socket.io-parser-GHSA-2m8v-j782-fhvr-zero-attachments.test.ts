/**
 * socket.io-parser GHSA-2m8v-j782-fhvr (fixed in 4.2.7): a binary packet announcing zero
 * attachments left the decoder waiting for a packet that could never complete, keeping
 * every binary message that followed.
 *
 * Here `50-` (and its ACK form `60-`), followed by binary messages, over WebSocket and
 * over polling (binary as `b<base64>`), is refused at the header: "parse error", no
 * event, nothing kept.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startIo, type IoFixture } from "../socket-helpers";
import { once, within } from "../helpers";
import type { DisconnectReason, Socket } from "../../src/index";
import { T, assertServes, frame, joinedWebSocket, pollingGet, pollingPost, pollingSession, type ProcessWatch, unwatch, watched } from "./util";

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => ({ fx, watch } = await watched(() => startIo())));
after(() => unwatch(fx, watch));

for (const header of ['450-["x"]', '450-["x",{"_placeholder":true,"num":0}]', "460-0[]", "4500-[\"x\"]"]) {
  test(`WebSocket: ${header} then binary messages: "parse error"`, async (t) => {
    const { ws, socket, reason } = await joinedWebSocket(fx);
    let events = 0;
    socket.onAny(() => events++);
    t.after(() => ws.destroy());
    ws.sendText(header);
    ws.send(Buffer.concat(Array.from({ length: 200 }, () => frame({ opcode: 0x2, payload: Buffer.alloc(1000) }))));
    assert.equal(await within(reason, T, "disconnect"), "parse error");
    assert.equal(events, 0);
  });
}

test('polling: 50-["x"] and base64 binary messages in one payload: "parse error"', async () => {
  const sid = await pollingSession(fx);
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "connection");
  await pollingPost(fx, sid, "40");
  assert.match((await pollingGet(fx, sid)).text, /^40\{"sid":/);
  const [socket] = await connection;
  const reason = within(once<[DisconnectReason]>(socket, "disconnect"), T, "disconnect");
  const payload = ['450-["x"]', ...Array.from({ length: 50 }, () => "b" + Buffer.alloc(300).toString("base64"))].join("\x1e");
  assert.equal((await pollingPost(fx, sid, payload)).text, "ok");
  assert.equal((await reason)[0], "parse error");
});

test("afterwards: a real client is served; nothing escaped", async () => {
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
