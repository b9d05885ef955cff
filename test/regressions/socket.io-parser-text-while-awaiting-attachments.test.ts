/**
 * Text arriving while a binary packet still awaits attachments (part of the same family
 * as GHSA-677m-j7p3-52f9 / GHSA-2m8v-j782-fhvr: a packet that cannot complete must not
 * keep the decoder, or memory, waiting). The packet can never be completed correctly
 * after that, so the connection ends with "parse error" and the attachments received so
 * far are dropped, whatever the text is and wherever it comes from.
 *
 * The table in test/socket/bad-input sends a header then an event to "/"; here the text
 * comes after some of the attachments, belongs to another namespace, is a CONNECT, an
 * Engine.IO-level ping, or shares one polling payload with the header.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startIo, type IoFixture } from "../socket-helpers";
import { once, within } from "../helpers";
import type { DisconnectReason, Socket } from "../../src/index";
import { T, assertServes, frame, joinedWebSocket, pollingGet, pollingPost, pollingSession, type ProcessWatch, unwatch, watched } from "./util";

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => {
  ({ fx, watch } = await watched(() => startIo({ pingInterval: 300, pingTimeout: 2000 })));
  fx.io.of("/admin");
});
after(() => unwatch(fx, watch));

const HEADER = '452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]';
const ONE = frame({ opcode: 0x2, payload: Buffer.from("first") });

const TEXTS: Array<[string, string]> = [
  ["an event for /", '42["y"]'],
  ["an event for another namespace", '42/admin,["y"]'],
  ["a CONNECT to another namespace", "40/admin,"],
  ["an ACK", '43["y"]'],
];

for (const [name, text] of TEXTS) {
  test(`one of two attachments, then ${name}: "parse error", neither event delivered`, async (t) => {
    const { ws, socket, reason } = await joinedWebSocket(fx);
    let events = 0;
    socket.onAny(() => events++);
    t.after(() => ws.destroy());
    ws.sendText(HEADER);
    ws.send(ONE);
    ws.sendText(text);
    ws.send(frame({ opcode: 0x2, payload: Buffer.from("second") }));
    assert.equal(await within(reason, T, "disconnect"), "parse error");
    assert.equal(events, 0);
  });
}

test("Engine.IO packets (pong) while attachments are awaited are not Socket.IO text: the packet still completes", async (t) => {
  const { ws, socket } = await joinedWebSocket(fx);
  t.after(() => ws.destroy());
  const got = new Promise<unknown[]>((resolve) => socket.once("x", (...args: unknown[]) => resolve(args)));
  ws.sendText(HEADER);
  ws.send(ONE);
  // The server pings every 300 ms; answering between attachments is legitimate.
  let ping = await ws.next();
  while (ping?.payload.toString() !== "2") ping = await ws.next();
  ws.sendText("3");
  ws.send(frame({ opcode: 0x2, payload: Buffer.from("second") }));
  assert.deepEqual(await within(got, T, "event"), [Buffer.from("first"), Buffer.from("second")]);
});

test('polling: header, one attachment and an event in one payload: "parse error"', async () => {
  const sid = await pollingSession(fx);
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "connection");
  await pollingPost(fx, sid, "40");
  assert.match((await pollingGet(fx, sid)).text, /^40\{"sid":/);
  const [socket] = await connection;
  let events = 0;
  socket.onAny(() => events++);
  const reason = within(once<[DisconnectReason]>(socket, "disconnect"), T, "disconnect");
  const payload = [HEADER, "b" + Buffer.from("first").toString("base64"), '42["y"]', "b" + Buffer.from("second").toString("base64")];
  assert.equal((await pollingPost(fx, sid, payload.join("\x1e"))).text, "ok");
  assert.equal((await reason)[0], "parse error");
  assert.equal(events, 0);
});

test("afterwards: a real client is served; nothing escaped", async () => {
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
