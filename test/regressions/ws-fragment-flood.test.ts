/**
 * Floods of tiny WebSocket fragments (no single advisory; the pattern behind several
 * WebSocket DoS reports): a message split into thousands of continuation frames must
 * count against the message limit as a whole, empty fragments must cost nothing but the
 * time to read them, and fragmentation rules (no fragmented control frames, no
 * continuation without a start, no new message inside one) end in close 1002.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startIo, type IoFixture } from "../socket-helpers";
import { within } from "../helpers";
import { closeCode } from "../engine/raw-util";
import { T, assertServes, frame, joinedWebSocket, type ProcessWatch, unwatch, watched } from "./util";

const LIMIT = 20_000;

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => ({ fx, watch } = await watched(() => startIo({ maxHttpBufferSize: LIMIT }))));
after(() => unwatch(fx, watch));

/** `text` as one fragment per byte: a first frame, continuations, FIN on the last. */
function byteFragments(text: string): Buffer {
  const bytes = Buffer.from(text);
  const frames: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) {
    frames.push(frame({ opcode: i === 0 ? 0x1 : 0x0, payload: bytes.subarray(i, i + 1), fin: i === bytes.length - 1 }));
  }
  return Buffer.concat(frames);
}

test("one-byte fragments past the limit: close 1009", async (t) => {
  const { ws, reason } = await joinedWebSocket(fx);
  t.after(() => ws.destroy());
  ws.send(byteFragments('42["x","' + "a".repeat(LIMIT) + '"]'));
  assert.equal(closeCode(await ws.next()), 1009);
  assert.equal(await within(reason, T, "disconnect"), "transport error");
});

test("one-byte fragments under the limit, with pings between them: one event, every ping answered", async (t) => {
  const { ws, socket } = await joinedWebSocket(fx);
  t.after(() => ws.destroy());
  const got = new Promise<string>((resolve) => socket.once("x", resolve));
  const text = "b".repeat(LIMIT / 2);
  const message = byteFragments(`42["x","${text}"]`);
  // A ping in the middle of the message is allowed (control frames may interleave).
  const middle = Math.floor(message.length / 2 / 7) * 7; // each one-byte masked frame is 7 bytes
  ws.send(Buffer.concat([message.subarray(0, middle), frame({ opcode: 0x9, payload: "mid" }), message.subarray(middle)]));
  const pong = await ws.next();
  assert.equal(pong?.opcode, 0xa);
  assert.equal(pong?.payload.toString(), "mid");
  assert.equal(await within(got, T, "event"), text);
});

test("100 000 empty continuation fragments: the message is delivered, and another client is served meanwhile", async (t) => {
  const { ws, socket } = await joinedWebSocket(fx);
  t.after(() => ws.destroy());
  const got = new Promise<string>((resolve) => socket.once("x", resolve));
  const empty = frame({ opcode: 0x0, payload: "", fin: false });
  const flood = Buffer.concat(Array.from({ length: 100_000 }, () => empty));
  ws.send(frame({ opcode: 0x1, payload: '42["x","', fin: false }));
  ws.send(flood);
  const served = assertServes(fx, ["websocket"]);
  ws.send(frame({ opcode: 0x0, payload: 'done"]' }));
  assert.equal(await within(got, T, "event"), "done");
  await served;
});

const VIOLATIONS: Array<[string, Buffer[]]> = [
  ["a fragmented ping", [frame({ opcode: 0x9, payload: "p", fin: false })]],
  ["a continuation with no message started", [frame({ opcode: 0x0, payload: "x" })]],
  ["a new text frame inside a fragmented message", [frame({ opcode: 0x1, payload: "42", fin: false }), frame({ opcode: 0x1, payload: '["x"]' })]],
  ["a control frame above 125 bytes", [frame({ opcode: 0x9, payload: Buffer.alloc(126) })]],
];

for (const [name, frames] of VIOLATIONS) {
  test(`${name}: close 1002`, async (t) => {
    const { ws, reason } = await joinedWebSocket(fx);
    t.after(() => ws.destroy());
    for (const f of frames) ws.send(f);
    assert.equal(closeCode(await ws.next()), 1002);
    assert.equal(await within(reason, T, "disconnect"), "transport error");
  });
}

test("afterwards: a real client is served; nothing escaped", async () => {
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
