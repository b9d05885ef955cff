/**
 * Random WebSocket frame sequences against a live Volley Socket.IO server: sessions
 * opened straight over WebSocket or as the upgrade of a polling session, then frames of
 * every opcode (valid and reserved), with FIN and RSV bits, fragments, control frames,
 * masked or not, carrying valid and invalid Engine.IO / Socket.IO packets, binary
 * attachments, random bytes, and sometimes bytes that are not a frame at all.
 *
 * Whatever is sent, every frame the server answers is well-formed, a close carries one
 * of the documented codes, nothing escapes as an uncaught exception or unhandled
 * rejection, and afterwards every session has ended within the heartbeat timeouts and a
 * real socket.io-client is served. Bounded in runs and in time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { IoFixture } from "../socket-helpers";
import { until } from "../helpers";
import { RawWebSocket, closeCode, frame, type Frame } from "../engine/raw-util";
import { IO_PATH, assertServes, pollingSession, type ProcessWatch, unwatch, watched } from "../regressions/util";
import { MAX_BUFFER, PING_INTERVAL, PING_TIMEOUT, SCALE, bytes, engineIoText, socketIoText, startFuzzServer } from "./util";

const RUNS = Math.ceil(200 * SCALE);
const TIME_LIMIT = 7000 * SCALE;
/** How long each run listens for the server's answers after its last frame. */
const LISTEN = 60;
/** Close codes the server may send: none, normal, protocol error, invalid data, too big. */
const CLOSE_CODES = new Set([undefined, 1000, 1002, 1007, 1009]);

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => ({ fx, watch } = await watched(() => startFuzzServer())));
after(() => unwatch(fx, watch));

type Step =
  | { kind: "frame"; opcode: number; fin: boolean; rsv: number; payload: Buffer; masked: boolean }
  | { kind: "garbage"; bytes: Buffer }
  | { kind: "truncated"; opcode: number; declared: number; payload: Buffer };

interface Scenario {
  /** Straight over WebSocket, or the upgrade of a polling session (which needs 2probe / 5). */
  start: "websocket" | "upgrade";
  steps: Step[];
}

// ---- arbitraries ----

const payload: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: engineIoText.map((t) => Buffer.from(t)) },
  { weight: 2, arbitrary: socketIoText.map((t) => Buffer.from(t)) },
  { weight: 2, arbitrary: bytes(48) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(MAX_BUFFER + 1, "a")) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0x03, 0xe8]), Buffer.from([0x03, 0xea, 0x61]), Buffer.from([0xff, 0xfe])) },
);

const opcode = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(0x1, 0x1, 0x1, 0x2) },
  { weight: 2, arbitrary: fc.constantFrom(0x0, 0x8, 0x9, 0xa) },
  { weight: 1, arbitrary: fc.constantFrom(0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("frame" as const),
      opcode,
      fin: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      rsv: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
      payload,
      masked: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  },
  { weight: 1, arbitrary: bytes(24).map((b) => ({ kind: "garbage" as const, bytes: b })) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("truncated" as const), opcode, declared: fc.integer({ min: 1, max: 2 * MAX_BUFFER }), payload: bytes(16) }),
  },
);

/** Valid Socket.IO traffic to start from, so that the random steps reach joined sockets. */
const prelude = fc.constantFrom<Step[]>(
  [],
  [textStep("40")],
  [textStep("40"), textStep('42["x",1]')],
  [textStep("40/admin,"), textStep('42/admin,1["x",{"a":[1,2]}]')],
  [textStep("40"), textStep('451-["x",{"_placeholder":true,"num":0}]')],
);

function textStep(text: string): Step {
  return { kind: "frame", opcode: 0x1, fin: true, rsv: 0, payload: Buffer.from(text), masked: true };
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  start: fc.constantFrom("websocket", "websocket", "websocket", "upgrade"),
  steps: fc.tuple(prelude, fc.array(step, { minLength: 1, maxLength: 12 })).map(([p, s]) => [...p, ...s]),
});

// ---- running one ----

function encode(s: Step): Buffer {
  if (s.kind === "garbage") return s.bytes;
  if (s.kind === "truncated") return frame({ opcode: s.opcode, payload: s.payload, declaredLength: s.declared });
  const masked = frame({ opcode: s.opcode, payload: s.payload, fin: s.fin, rsv: s.rsv });
  if (s.masked) return masked;
  // The same frame without its mask: clear the MASK bit and drop the key (payload sent as is).
  const ext = (masked[1] & 0x7f) === 126 ? 2 : (masked[1] & 0x7f) === 127 ? 8 : 0;
  const head = Buffer.from(masked.subarray(0, 2 + ext));
  head[1] &= 0x7f;
  return Buffer.concat([head, s.payload]);
}

/** What the runs reached, reported as a diagnostic. */
const reached = { closes: new Map<string, number>(), connections: 0, events: 0 };

/** Every frame the server sends must be a frame we can read; a close must carry a documented code. */
function checkAnswer(f: Frame): void {
  assert.ok(f.opcode <= 0x2 || (f.opcode >= 0x8 && f.opcode <= 0xa), `server opcode ${f.opcode}`);
  if (f.opcode === 0x8) {
    assert.ok(CLOSE_CODES.has(closeCode(f)), `close code ${closeCode(f)}`);
    const key = String(closeCode(f) ?? "none");
    reached.closes.set(key, (reached.closes.get(key) ?? 0) + 1);
  }
  if (f.opcode === 0x1) assert.doesNotThrow(() => new TextDecoder("utf-8", { fatal: true }).decode(f.payload), "server text is UTF-8");
}

async function run(sc: Scenario): Promise<void> {
  let query = "EIO=4&transport=websocket";
  if (sc.start === "upgrade") query += `&sid=${encodeURIComponent(await pollingSession(fx))}`;
  const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?${query}`);
  try {
    assert.equal(ws.status, 101, ws.statusLine);
    if (sc.start === "upgrade") {
      ws.sendText("2probe");
      assert.equal((await ws.next())?.payload.toString(), "3probe");
      ws.sendText("5");
    } else {
      const open = await ws.next();
      assert.equal(open?.payload.toString()[0], "0");
    }
    for (const s of sc.steps) {
      if (ws.closed) break;
      ws.send(encode(s));
    }
    // Read what comes back for a moment, checking each frame.
    const until = Date.now() + LISTEN;
    while (!ws.closed && Date.now() < until) {
      const f = await ws.next(Math.max(1, until - Date.now())).catch(() => undefined);
      if (f) checkAnswer(f);
    }
  } finally {
    ws.destroy();
  }
}

test(`${RUNS} random frame sequences (at most ${TIME_LIMIT} ms): well-formed answers, nothing escapes`, { timeout: TIME_LIMIT + 20_000 }, async (t) => {
  let runs = 0;
  const onConnection = (socket: { onAny(fn: () => void): void }) => {
    reached.connections++;
    socket.onAny(() => reached.events++);
  };
  fx.io.on("connection", onConnection);
  fx.io.of("/admin").on("connection", onConnection);
  await fc.assert(
    fc.asyncProperty(scenario, async (sc) => {
      runs++;
      await run(sc);
      assert.deepEqual(watch.problems, [], "nothing escaped");
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT, markInterruptAsFailure: false },
  );
  t.diagnostic(
    `${runs} sequences; ${reached.connections} sockets joined, ${reached.events} events delivered; close codes: ` +
      [...reached.closes].map(([k, n]) => `${k}: ${n}`).join(", "),
  );
  assert.ok(runs >= Math.min(RUNS, 50), `at least 50 sequences ran (${runs})`);
});

test("afterwards: every session has ended, a real client is served over both transports", async () => {
  const ended = 4 * (PING_INTERVAL + PING_TIMEOUT) + 1000;
  await until(() => fx.io.engine.clientsCount === 0, ended, "sessions ending").catch(() => {}); // asserted below
  assert.equal(fx.io.engine.clientsCount, 0, "sessions left");
  assert.equal(fx.io.of("/").sockets.size, 0);
  assert.equal(fx.io.of("/admin").sockets.size, 0);
  await assertServes(fx, ["websocket"]);
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
