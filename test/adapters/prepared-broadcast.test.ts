/**
 * A broadcast's write is prepared once: the adapter hands every recipient's client the same
 * PreparedBroadcast, whose engine packets are built once and shared; npm adapters' plain
 * options objects get the same sharing for the last write of the turn. The WebSocket frame
 * of a broadcast comes from the engine (encodeBroadcastFrame), not from the adapter.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { PreparedBroadcast, enginePacketsFor } from "../../src/adapter/prepared-broadcast";
import { broadcastPackets, encodeBroadcastFrame, messagePacket, parser } from "../../src/engine/index";

test("encodeBroadcastFrame: one unmasked, final text frame of the Engine.IO message", () => {
  const frame = encodeBroadcastFrame('2["hello","é"]');
  assert.ok(Array.isArray(frame));
  assert.equal(frame.length, 1);
  const [bytes] = frame;
  // The engine's own encoding of the message: the adapter no longer knows it.
  const payload = Buffer.from(parser.encodePacket({ type: "message", data: '2["hello","é"]' }, true) as string);
  assert.equal(bytes[0], 0x81, "FIN + text opcode");
  assert.equal(bytes[1], payload.length, "unmasked, short length");
  assert.deepEqual(bytes.subarray(2), payload);
});

test("encodeBroadcastFrame: 16-bit and 64-bit lengths", () => {
  for (const size of [200, 70_000]) {
    const [bytes] = encodeBroadcastFrame("x".repeat(size));
    const length = size + 1;
    if (size < 65536) {
      assert.equal(bytes[1], 126);
      assert.equal(bytes.readUInt16BE(2), length);
      assert.equal(bytes.length, 4 + length);
    } else {
      assert.equal(bytes[1], 127);
      assert.equal(Number(bytes.readBigUInt64BE(2)), length);
      assert.equal(bytes.length, 10 + length);
    }
  }
});

test("messagePacket shares the options object of its kind", () => {
  const a = messagePacket("a", true);
  const b = messagePacket("b", true);
  const c = messagePacket("c", false);
  assert.deepEqual(a, { type: "message", data: "a", options: { compress: true } });
  assert.equal(a.options, b.options);
  assert.deepEqual(c.options, { compress: false });
  assert.ok(Object.isFrozen(a.options));
});

test("broadcastPackets: a lone packet carries the frame, several do not", () => {
  const frame = encodeBroadcastFrame("2[1]");
  const [lone] = broadcastPackets(["2[1]"], true, frame);
  assert.deepEqual(lone.options, { compress: true, wsPreEncodedFrame: frame });
  const several = broadcastPackets(["51-[1]", Buffer.from([1])], false, frame);
  assert.equal(several.length, 2);
  assert.equal(several[0].options, several[1].options);
  assert.deepEqual(several[0].options, { compress: false });
});

test("PreparedBroadcast: the write options of the broadcast's flags; packets built once", () => {
  const prepared = new PreparedBroadcast({ volatile: true, compress: false });
  assert.equal(prepared.preEncoded, true);
  assert.equal(prepared.volatile, true);
  assert.equal(prepared.compress, false);
  const encoded = ['2["x"]'];
  prepared.wsPreEncodedFrame = encodeBroadcastFrame(encoded[0]);
  const first = enginePacketsFor(encoded, prepared);
  assert.equal(enginePacketsFor(encoded, prepared), first, "every recipient gets the same packets");
  assert.deepEqual(first, [{ type: "message", data: '2["x"]', options: { compress: false, wsPreEncodedFrame: prepared.wsPreEncodedFrame } }]);
  const other = ['2["y"]'];
  assert.notEqual(enginePacketsFor(other, prepared), first, "other encoded packets, other engine packets");
  const plain = new PreparedBroadcast();
  assert.equal(plain.volatile, undefined);
  assert.deepEqual(enginePacketsFor("2[]", plain), [{ type: "message", data: "2[]", options: { compress: true } }]);
});

test("an npm adapter's plain options object: shared for its recipients, forgotten after the turn", async () => {
  const opts = { preEncoded: true, compress: true };
  const encoded = ["2[1]"];
  const first = enginePacketsFor(encoded, opts);
  assert.equal(enginePacketsFor(encoded, opts), first);
  assert.notEqual(enginePacketsFor(encoded, { ...opts }), first, "another options object is another write");
  const frozen = Object.freeze({ compress: false });
  assert.notEqual(enginePacketsFor(encoded, frozen), enginePacketsFor(encoded, frozen), "a frozen object is no broadcast's");
  const again = enginePacketsFor(encoded, opts);
  await tick();
  assert.notEqual(enginePacketsFor(encoded, opts), again, "nothing kept across turns");
});
