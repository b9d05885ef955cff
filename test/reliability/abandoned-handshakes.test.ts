/**
 * Abandoned handshakes are cleaned up within their documented timeouts (short ones here):
 * a session that never joins a namespace (`connectTimeout`), a polling client that stops
 * polling or vanishes with a poll in flight (`pingInterval + pingTimeout`), an upgrade
 * that never finishes (`upgradeTimeout`, then the session goes on over polling), a
 * WebSocket that goes silent after its handshake (ping timeout), and an upgrade request
 * whose headers never end (the HTTP server's `headersTimeout`).
 *
 * Each scenario measures when the session ends, then checks that `io.engine.clientsCount`
 * is back to 0, the heartbeat lists are empty, no socket is left in a namespace, and the
 * process holds no more timers or TCP handles than before it started.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { connect } from "node:net";
import type { Socket as EngineSocket } from "../../src/engine/index";
import { deadlinesFor } from "../../src/internal/deadlines";
import { T, once, within, until } from "../helpers";
import { startIo, type IoFixture } from "../socket-helpers";
import { RawWebSocket, frame, request, requestArrived, type RawResponse } from "../engine/raw-util";

const IO_PATH = "/socket.io/";
/** Slack for timers on a loaded machine. */
const SLACK = 400;

/** Timers and TCP sockets the process holds (ref'd ones: what keeps a process alive). */
function handles(): { timers: number; sockets: number } {
  const all = process.getActiveResourcesInfo();
  return { timers: all.filter((r) => r === "Timeout").length, sockets: all.filter((r) => r === "TCPSocketWrap").length };
}

/** Everything a session held is gone: the engine's count, namespaces, heartbeat lists, handles. */
async function assertClean(fx: IoFixture, before: { timers: number; sockets: number }, opts: { pingInterval: number; pingTimeout: number }): Promise<void> {
  assert.equal(fx.io.engine.clientsCount, 0, "clientsCount");
  assert.deepEqual(Object.keys(fx.io.engine.clients), []);
  assert.equal(fx.io.of("/").sockets.size, 0, "sockets in /");
  for (const delay of [opts.pingInterval, opts.pingTimeout, opts.pingInterval + opts.pingTimeout]) {
    assert.equal(deadlinesFor(delay).size, 0, `heartbeat list of ${delay} ms`);
  }
  // Connections the server closed are released on the next turns.
  await until(() => handles().timers <= before.timers && handles().sockets <= before.sockets, 2000, "handles released").catch(() => {});
  assert.deepEqual(handles(), before, "timers and TCP sockets back to where they were");
}

/** Resolves with the reason and the time (from `since`) of the next session's close. */
function nextClose(fx: IoFixture, since: () => number): Promise<{ reason: string; ms: number; socket: EngineSocket }> {
  return within(
    new Promise((resolve) => {
      fx.io.engine.once("connection", (socket: EngineSocket) => {
        socket.once("close", (reason: string) => resolve({ reason, ms: performance.now() - since(), socket }));
      });
    }),
    10_000,
    "session close",
  );
}

/** Plays the WebSocket closing handshake when the server starts it, then waits for the end. */
async function answerClose(ws: RawWebSocket): Promise<void> {
  for (;;) {
    const f = await ws.next(5000);
    if (!f) break;
    if (f.opcode === 0x8) {
      ws.send(frame({ opcode: 0x8, payload: f.payload.subarray(0, 2) }));
      break;
    }
  }
  await within(ws.closedPromise, T, "server closed the connection");
}

const openPacket = (res: RawResponse) => JSON.parse(res.text.slice(1, res.text.indexOf("}") + 1)) as { sid: string };

type Timeouts = { pingInterval: number; pingTimeout: number; connectTimeout: number };

/**
 * One scenario: a server with `opts` (on `http()`, if given), closed after the test pass
 * or fail; `run` plays the abandoned client, then everything the session held must be gone.
 */
function scenario<O extends Timeouts>(name: string, opts: O, run: (fx: IoFixture, opts: O) => Promise<void>, http?: () => HttpServer): void {
  test(name, async (t) => {
    const fx = await startIo(opts, http?.());
    t.after(() => fx.close());
    const before = handles();
    await run(fx, opts);
    await assertClean(fx, before, opts);
  });
}

scenario(
  "a polling session that never joins a namespace: closing after connectTimeout, closed by the heartbeat",
  { connectTimeout: 200, pingInterval: 300, pingTimeout: 200 },
  async (fx, opts) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    t0 = performance.now();
    const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
    const session = fx.io.engine.clients[sid];
    // At connectTimeout the server closes the session; the close packet waits for a next
    // poll, which an abandoned client never sends, so the heartbeat ends the wait.
    await until(() => session.readyState !== "open", opts.connectTimeout + SLACK, "closing");
    const closingMs = performance.now() - t0;
    assert.ok(closingMs >= opts.connectTimeout - 20, `${closingMs.toFixed(0)} ms`);
    const c = await closed;
    assert.ok(c.ms < opts.pingInterval + opts.pingTimeout + SLACK, `${c.ms.toFixed(0)} ms`);
  },
);

scenario(
  "a WebSocket session that never joins a namespace is closed at connectTimeout",
  { connectTimeout: 200, pingInterval: 5000, pingTimeout: 5000 },
  async (fx, opts) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    t0 = performance.now();
    const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?EIO=4&transport=websocket`);
    const c = await closed;
    assert.equal(c.reason, "forced close");
    assert.ok(c.ms >= opts.connectTimeout - 20 && c.ms < opts.connectTimeout + SLACK, `${c.ms.toFixed(0)} ms`);
    // The peer still plays the WebSocket closing handshake (its WebSocket stack would).
    await answerClose(ws);
    ws.destroy();
  },
);

scenario(
  "a polling client that stops polling is closed by the ping timeout",
  { pingInterval: 150, pingTimeout: 100, connectTimeout: 5000 },
  async (fx, opts) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    t0 = performance.now();
    const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
    // Joins "/", reads the answer, then is never heard of again.
    await request(fx.port, `${IO_PATH}?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "40" });
    await request(fx.port, `${IO_PATH}?EIO=4&transport=polling&sid=${sid}`);
    const transport = fx.io.engine.clients[sid].transport;
    const c = await closed;
    assert.equal(c.reason, "ping timeout");
    const due = opts.pingInterval + opts.pingTimeout;
    assert.ok(c.ms >= due - 20 && c.ms < due + SLACK, `${c.ms.toFixed(0)} ms`);
    // No poll can reach a session that has left the server: its transport is released at
    // once, not kept 30 s for a close packet nobody will fetch.
    assert.equal(transport.readyState, "closed");
  },
);

scenario(
  "engine.close() ends at once a polling session whose close packet waits for a poll",
  { pingInterval: 5000, pingTimeout: 5000, connectTimeout: 5000 },
  async (fx) => {
    const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
    const session = fx.io.engine.clients[sid];
    // A graceful close with no GET in flight: the close packet waits for the next poll.
    session.close();
    assert.equal(session.readyState, "closing");
    assert.equal(fx.io.engine.clientsCount, 1);
    const reason = new Promise<string>((resolve) => session.once("close", resolve));
    fx.io.engine.close();
    assert.equal(fx.io.engine.clientsCount, 0, "gone at once, not after the 30 s close timeout");
    assert.equal(await within(reason, 100, "close"), "forced close");
  },
);

scenario(
  "a poll that never returns to its client (the connection hangs, unread): ping timeout",
  { pingInterval: 150, pingTimeout: 100, connectTimeout: 5000 },
  async (fx, opts) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    t0 = performance.now();
    const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
    // A GET whose connection stays open but is never read: the ping is written into it, no pong comes.
    const hanging = connect(fx.port, "127.0.0.1");
    hanging.on("error", () => {});
    hanging.pause();
    hanging.write(`GET ${IO_PATH}?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const c = await closed;
    assert.equal(c.reason, "ping timeout");
    const due = opts.pingInterval + opts.pingTimeout;
    assert.ok(c.ms >= due - 20 && c.ms < due + SLACK, `${c.ms.toFixed(0)} ms`);
    hanging.destroy();
    await within(once(hanging, "close"), 2000, "hanging connection closed");
  },
);

scenario(
  "a polling client that vanishes with a poll in flight: closed at once ('transport error')",
  { pingInterval: 5000, pingTimeout: 5000, connectTimeout: 5000 },
  async (fx) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
    const gone = connect(fx.port, "127.0.0.1");
    gone.on("error", () => {});
    const inFlight = requestArrived(fx.http, (req) => req.method === "GET" && (req.url ?? "").includes(sid));
    gone.write(`GET ${IO_PATH}?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await inFlight;
    t0 = performance.now();
    gone.destroy();
    const c = await closed;
    assert.equal(c.reason, "transport error");
    assert.ok(c.ms < SLACK, `${c.ms.toFixed(0)} ms`);
  },
);

for (const stage of ["before the probe", "after the probe"] as const) {
  scenario(
    `an upgrade that never finishes (${stage}): the WebSocket is dropped after upgradeTimeout, polling goes on`,
    { upgradeTimeout: 200, pingInterval: 150, pingTimeout: 100, connectTimeout: 5000 },
    async (fx, opts) => {
      let t0 = 0;
      const closed = nextClose(fx, () => t0);
      const { sid } = openPacket(await request(fx.port, `${IO_PATH}?EIO=4&transport=polling`));
      const session = fx.io.engine.clients[sid];
      t0 = performance.now();
      const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?EIO=4&transport=websocket&sid=${sid}`);
      assert.equal(ws.status, 101);
      if (stage === "after the probe") {
        ws.sendText("2probe");
        assert.equal((await ws.next())?.payload.toString(), "3probe");
      }
      await until(() => !session.upgrading, opts.upgradeTimeout + SLACK, "upgrade given up");
      const upgradeMs = performance.now() - t0;
      assert.ok(upgradeMs >= opts.upgradeTimeout - 20, `${upgradeMs.toFixed(0)} ms`);
      await answerClose(ws);
      ws.destroy();
      assert.equal(session.upgraded, false);
      assert.equal(session.transport.name, "polling");
      // The client abandoned polling as well: the ping timeout ends the session.
      const c = await closed;
      assert.equal(c.reason, "ping timeout");
    },
  );
}

scenario(
  "a WebSocket that goes silent after its handshake: ping timeout",
  { pingInterval: 150, pingTimeout: 100, connectTimeout: 5000 },
  async (fx, opts) => {
    let t0 = 0;
    const closed = nextClose(fx, () => t0);
    t0 = performance.now();
    const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?EIO=4&transport=websocket`);
    ws.sendText("40");
    const c = await closed;
    assert.equal(c.reason, "ping timeout");
    const due = opts.pingInterval + opts.pingTimeout;
    assert.ok(c.ms >= due - 20 && c.ms < due + SLACK, `${c.ms.toFixed(0)} ms`);
    await answerClose(ws);
    ws.destroy();
  },
);

scenario(
  "an upgrade request whose headers never end: the HTTP server drops it after headersTimeout; no session",
  { pingInterval: 5000, pingTimeout: 5000, connectTimeout: 5000 },
  async (fx) => {
    const stalled = connect(fx.port, "127.0.0.1");
    stalled.on("error", () => {});
    const t0 = performance.now();
    stalled.write(`GET ${IO_PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
    let answer = "";
    stalled.on("data", (c: Buffer) => (answer += c.toString("latin1")));
    await within(once(stalled, "close"), 3000, "server drops the stalled request");
    const ms = performance.now() - t0;
    assert.ok(ms >= 300 - 20 && ms < 300 + SLACK, `${ms.toFixed(0)} ms`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal(fx.io.engine.clientsCount, 0);
  },
  () => createServer({ headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 }),
);
