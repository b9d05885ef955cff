/**
 * ws GHSA-5v72-xg48-5rpm (NSP 550, fixed in 1.1.5 / 3.3.1): extension and parameter names
 * of the Sec-WebSocket-Extensions header were used as keys of plain objects, so
 * `constructor` or `,;constructor` crashed the server.
 *
 * Here those names, and others from Object.prototype, are offered with permessage-deflate
 * off (the default) and on. Each handshake is either accepted without the bogus offer or
 * refused with 400; a hostile offer never enables compression by accident, and a long
 * header is parsed at once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startIo, type IoFixture } from "../socket-helpers";
import { RawWebSocket, headerOf } from "../engine/raw-util";
import { IO_PATH, assertServes, watchProcess, type ProcessWatch } from "./util";

let plain: IoFixture;
let deflate: IoFixture;
let watch: ProcessWatch;

before(async () => {
  watch = watchProcess();
  plain = await startIo();
  deflate = await startIo({ perMessageDeflate: true });
});

after(async () => {
  await plain.close();
  await deflate.close();
  watch.stop();
});

const OFFERS = [
  "constructor",
  ",;constructor",
  "__proto__",
  "hasOwnProperty; toString",
  "permessage-deflate; constructor",
  "permessage-deflate; __proto__=1",
  "permessage-deflate; client_max_window_bits=constructor",
  "permessage-deflate; server_max_window_bits=__proto__",
  "permessage-deflate; client_max_window_bits, permessage-deflate; constructor=2",
  'x; y=",permessage-deflate; client_max_window_bits,"',
  "permessage-deflate" + "; a=1".repeat(2000),
];

for (const offer of OFFERS) {
  const label = offer.length > 80 ? `${offer.slice(0, 40)}... (${offer.length} chars)` : offer;
  for (const [name, server] of [["deflate off", () => plain], ["deflate on", () => deflate]] as const) {
    test(`${name}, Sec-WebSocket-Extensions: ${label}`, async (t) => {
      const start = performance.now();
      const ws = await RawWebSocket.open(server().port, `${IO_PATH}?EIO=4&transport=websocket`, `Sec-WebSocket-Extensions: ${offer}\r\n`);
      t.after(() => ws.destroy());
      assert.ok(performance.now() - start < 1000, "answered at once");
      assert.ok(ws.status === 101 || ws.status === 400, ws.statusLine);
      const accepted = headerOf(ws.head, "sec-websocket-extensions");
      if (ws.status === 101 && accepted !== undefined) {
        // Only a well-formed permessage-deflate offer may be taken up, and only when enabled.
        assert.equal(name, "deflate on");
        assert.match(accepted, /^permessage-deflate(;|$)/);
        assert.doesNotMatch(accepted, /constructor|__proto__/);
      }
      if (ws.status === 101) assert.equal((await ws.next())?.payload.toString()[0], "0", "a working session");
    });
  }
}

test("afterwards: real clients are served; nothing escaped", async () => {
  await assertServes(plain);
  await assertServes(deflate, ["websocket"]);
  assert.deepEqual(watch.problems, []);
});
