/**
 * Prototype pollution and prototype-named keys (the class of bug behind ws
 * GHSA-5v72-xg48-5rpm and socket.io-parser CVE-2022-2421, and engine.io's lookups of
 * transports and sessions by query value): every value a peer chooses that the server
 * uses as a key (transport, sid, namespace, event name, room, query key, auth key)
 * named after an Object.prototype member. Lookups find nothing that is not really
 * there, data keys stay own data, and Object.prototype is untouched.
 *
 * test/engine/bad-input covers transport/sid/EIO values on the bare engine's polling
 * requests; here the Socket.IO server, over WebSocket handshakes and namespaces.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startIo, type IoFixture } from "../socket-helpers";
import { once, within } from "../helpers";
import { RawWebSocket, errorBody } from "../engine/raw-util";
import type { Socket } from "../../src/index";
import { IO_PATH, T, assertServes, joinedWebSocket, wsSession, type ProcessWatch, unwatch, watched } from "./util";

const NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => ({ fx, watch } = await watched(() => startIo())));
after(() => unwatch(fx, watch));

for (const name of NAMES) {
  test(`WebSocket handshake with transport=${name}: 400 code 0; with sid=${name}: 400 code 1`, async () => {
    for (const [query, code] of [
      [`EIO=4&transport=${name}`, 0],
      [`EIO=4&transport=websocket&sid=${name}`, 1],
    ] as const) {
      const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?${query}`);
      try {
        assert.equal(ws.status, 400);
        assert.equal(errorBody({ body: await ws.bodyUntilClose() }).code, code);
      } finally {
        ws.destroy();
      }
    }
  });

  test(`CONNECT to namespace /${name}: "Invalid namespace", the connection stays`, async (t) => {
    const { ws } = await wsSession(fx);
    t.after(() => ws.destroy());
    ws.sendText(`40/${name},`);
    assert.equal((await ws.next())?.payload.toString(), `44/${name},{"message":"Invalid namespace"}`);
    ws.sendText("40");
    assert.match((await ws.next())?.payload.toString() ?? "", /^40\{"sid":/);
  });
}

test("events and rooms named after prototype members are ordinary events and rooms", async (t) => {
  const { ws, socket } = await joinedWebSocket(fx);
  t.after(() => ws.destroy());
  const seen: unknown[][] = [];
  socket.onAny((...args: unknown[]) => seen.push(args));
  for (const name of NAMES) socket.join(name);
  const done = within(once(socket, "done"), T, "done");
  for (const name of NAMES) ws.sendText(`42["${name}",1]`);
  ws.sendText('42["done"]');
  await done;
  assert.deepEqual(seen.slice(0, NAMES.length), NAMES.map((n) => [n, 1]));
  const rooms = fx.io.of("/").adapter.rooms;
  for (const name of NAMES) assert.ok(rooms.get(name)?.has(socket.id), `room ${name}`);
  // Broadcasting to such a room reaches exactly its members.
  fx.io.to("__proto__").emit("room", "__proto__");
  assert.equal((await ws.next())?.payload.toString(), '42["room","__proto__"]');
});

test("query keys and auth keys named after prototype members are own data", async (t) => {
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "connection");
  const query = NAMES.map((n, i) => `${n}=${i}`).join("&");
  const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?EIO=4&transport=websocket&${query}`);
  t.after(() => ws.destroy());
  assert.equal(ws.status, 101);
  await ws.next();
  ws.sendText(`40${JSON.stringify(Object.fromEntries(NAMES.map((n, i) => [n, i])))}`);
  const [socket] = await connection;
  const q = socket.handshake.query as Record<string, unknown>;
  const auth = socket.handshake.auth;
  for (const [i, name] of NAMES.entries()) {
    assert.equal(Object.getOwnPropertyDescriptor(q, name)?.value, String(i), `query ${name}`);
    assert.equal(Object.getOwnPropertyDescriptor(auth, name)?.value, i, `auth ${name}`);
  }
  assert.equal(Object.getPrototypeOf(q), Object.prototype);
  assert.equal(Object.getPrototypeOf(auth), Object.prototype);
});

test("afterwards: Object.prototype is untouched, a real client is served, nothing escaped", async () => {
  for (const key of ["polluted", "0", "1", "x"]) assert.equal(Object.hasOwn(Object.prototype, key), false);
  assert.equal(typeof ({} as { toString: unknown }).toString, "function");
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
