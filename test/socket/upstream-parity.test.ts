/**
 * Behaviours of the official socket.io 4.8 server that its own suite checks, each mirrored
 * here against real clients (socket.io-client, raw Engine.IO polling over loopback): volatile
 * packets, the broadcast's pre-encoded frame, ack cleanup after a broadcast timeout, events
 * racing a DISCONNECT, missed packets before CONNECT, protocol violations on polling, and the
 * private members tools reach (`io.eio`, `socket.leaveAll`, `client.ondata`,
 * `nsp._preConnectSockets`). Each test names the upstream test it mirrors.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { Socket } from "../../src/index";
import { Server } from "../../src/index";
import { ioForTest, pollingGet, pollingPost, pollingSession, type IoFixture } from "../socket-helpers";
import { T, once, within } from "../helpers";
import { MODES, collect, connectPair, roundTrip, type Mode } from "./core-util";

/** Until nothing is queued and the transport can write (over polling: a GET is waiting). */
async function idle(socket: Socket): Promise<void> {
  const transport = socket.conn.transport;
  if (!transport.writable) await within(once(transport, "ready"), T, "transport ready");
}

/** Posts `body` on a raw polling session; the server must take it ("ok"). */
async function rawPush(fx: IoFixture, sid: string, body: string): Promise<void> {
  assert.equal((await pollingPost(fx, sid, body)).text, "ok");
}

async function rawPoll(fx: IoFixture, sid: string): Promise<string> {
  return (await pollingGet(fx, sid)).text;
}

for (const mode of MODES) {
  describe(`volatile (${mode.name})`, () => {
    // upstream socket.ts "should emit regular events after trying a failed volatile event (polling)/(ws)"
    test("a volatile emit after a regular one in the same turn is dropped; the next regular one goes", async (t) => {
      const fx = await ioForTest(t);
      const { client, socket } = await connectPair(fx, mode);
      await idle(socket);
      const received: string[] = [];
      client.on("ev", (v: string) => received.push(v));
      socket.emit("ev", "a");
      socket.volatile.emit("ev", "volatile");
      socket.emit("ev", "b");
      await roundTrip(client, socket);
      assert.deepEqual(received, ["a", "b"]);
    });

    // upstream socket.ts "should emit only one consecutive volatile event (polling)/(ws)", "... with binary (ws)"
    test("two volatile emits in a row: the first goes, the second is dropped (text and binary)", async (t) => {
      const fx = await ioForTest(t);
      const { client, socket } = await connectPair(fx, mode);
      for (const [first, second] of [
        ["one", "two"],
        [Buffer.from([1]), Buffer.from([2])],
      ] as const) {
        await idle(socket);
        const received: unknown[] = [];
        const listener = (v: unknown) => received.push(v);
        client.on("ev", listener);
        socket.volatile.emit("ev", first);
        socket.volatile.emit("ev", second);
        await roundTrip(client, socket);
        client.off("ev", listener);
        assert.equal(received.length, 1, String(first));
        assert.deepEqual(received[0], first);
      }
    });

    // upstream socket.ts "should broadcast only one consecutive volatile event with binary (ws)",
    // namespaces.ts "should not emit volatile event after regular event"
    test("broadcasts: one volatile of two goes; none after a regular one", async (t) => {
      const fx = await ioForTest(t);
      const { client, socket } = await connectPair(fx, mode);
      await idle(socket);
      const received: unknown[] = [];
      client.on("ev", (v: unknown) => received.push(v));
      fx.io.volatile.emit("ev", Buffer.from([1, 2, 3]));
      fx.io.volatile.emit("ev", Buffer.from([4, 5, 6]));
      await roundTrip(client, socket);
      assert.equal(received.length, 1);
      await idle(socket);
      fx.io.emit("ev", "regular");
      fx.io.volatile.emit("ev", "volatile");
      await roundTrip(client, socket);
      assert.deepEqual(received.slice(1), ["regular"]);
    });
  });
}

// upstream messaging-many.ts "should precompute the WebSocket frame when broadcasting"
test("a broadcast hands the engine its WebSocket frame as an Array of Buffers, and the client gets the event", async (t) => {
  const fx = await ioForTest(t);
  const { client, socket } = await connectPair(fx, MODES.find((m) => m.name === "websocket") as Mode);
  const created = once<[{ options?: { wsPreEncodedFrame?: unknown } }]>(socket.conn, "packetCreate");
  const got = once(client, "woot");
  fx.io.compress(false).emit("woot", "hi");
  const [packet] = await within(created, T, "packetCreate");
  const frame = packet.options?.wsPreEncodedFrame;
  assert.ok(Array.isArray(frame));
  assert.ok(frame.every((part) => Buffer.isBuffer(part)));
  assert.equal(Buffer.concat(frame).subarray(2).toString(), '42["woot","hi"]');
  assert.deepEqual(await within(got, T, "woot"), ["hi"]);
});

// upstream messaging-many.ts "should fail when a client does not acknowledge the event in the given delay (promise)"
test("a broadcast ack timing out leaves no pending acknowledgement on any socket", async (t) => {
  const fx = await ioForTest(t);
  const websocket = MODES.find((m) => m.name === "websocket") as Mode;
  const a = await connectPair(fx, websocket);
  const b = await connectPair(fx, websocket);
  a.client.on("q", (ack: (v: number) => void) => ack(1));
  b.client.on("q", () => {});
  const err = await within(
    fx.io.timeout(100).emitWithAck("q").then(
      () => assert.fail("should time out"),
      (e: Error & { responses?: unknown }) => e,
    ),
    T,
    "emitWithAck",
  );
  assert.deepEqual(err.responses, [1]);
  for (const socket of fx.io.of("/").sockets.values()) assert.equal(socket.acks.size, 0);
});

for (const mode of MODES) {
  // upstream socket.ts "should ignore a packet received after disconnection"
  test(`an event arriving with a DISCONNECT after it (${mode.name}) is not delivered`, async (t) => {
    const fx = await ioForTest(t);
    const { client, socket } = await connectPair(fx, mode);
    const events: string[] = [];
    socket.on("test", () => events.push("test"));
    const disconnected = once<[string]>(socket, "disconnect");
    client.emit("test", Buffer.alloc(10));
    client.disconnect();
    assert.equal((await within(disconnected, T, "disconnect"))[0], "client namespace disconnect");
    assert.deepEqual(events, []);
  });
}

test("raw polling: an event and a DISCONNECT in one payload: the event is ignored", async (t) => {
  const fx = await ioForTest(t);
  const connection = once<[Socket]>(fx.io, "connection");
  const sid = await pollingSession(fx);
  await rawPush(fx, sid, "40");
  const [socket] = await within(connection, T, "connection");
  const events: string[] = [];
  socket.on("test", () => events.push("test"));
  const disconnected = once<[string]>(socket, "disconnect");
  await rawPush(fx, sid, '42["test"]\x1e41');
  assert.equal((await within(disconnected, T, "disconnect"))[0], "client namespace disconnect");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, []);
});

// upstream close.ts "protocol violations": the session is closed cleanly, the next poll is a noop then a close
describe("protocol violations over polling", () => {
  test("several CONNECT packets: the CONNECT reply, then exactly 6\\x1e1", async (t) => {
    const fx = await ioForTest(t);
    const sid = await pollingSession(fx);
    await rawPush(fx, sid, "40");
    await rawPush(fx, sid, "40");
    assert.match(await rawPoll(fx, sid), /^40\{"sid":/);
    assert.equal(await rawPoll(fx, sid), "6\x1e1");
  });

  test("an EVENT packet while not connected: exactly 6\\x1e1", async (t) => {
    const fx = await ioForTest(t);
    const sid = await pollingSession(fx);
    await rawPush(fx, sid, '42["some event"]');
    assert.equal(await rawPoll(fx, sid), "6\x1e1");
  });

  test("an invalid packet: the CONNECT reply, then exactly 6\\x1e1", async (t) => {
    const fx = await ioForTest(t);
    const sid = await pollingSession(fx);
    await rawPush(fx, sid, "40");
    await rawPush(fx, sid, "4abc");
    assert.match(await rawPoll(fx, sid), /^40\{"sid":/);
    assert.equal(await rawPoll(fx, sid), "6\x1e1");
  });
});

// upstream connection-state-recovery.ts "should restore session and missed packets"
test("recovery over raw polling: the missed packets come before the CONNECT reply", async (t) => {
  const fx = await ioForTest(t, { connectionStateRecovery: {} });
  const connection = once<[Socket]>(fx.io, "connection");
  const sid = await pollingSession(fx);
  await rawPush(fx, sid, "40");
  const [socket] = await within(connection, T, "connection");
  socket.join("room1");
  const reply = await rawPoll(fx, sid);
  const { pid } = JSON.parse(reply.slice(2)) as { pid: string };
  socket.emit("hello0");
  const first = await rawPoll(fx, sid);
  const offset = (JSON.parse(first.slice(2)) as string[])[1];
  // The engine session closes ("transport close"): the socket's state is kept for recovery.
  const disconnected = once(socket, "disconnect");
  await rawPush(fx, sid, "1");
  await within(disconnected, T, "disconnect");
  fx.io.emit("hello1");
  fx.io.to("room1").emit("hello2");
  socket.emit("hello3");
  const newSid = await pollingSession(fx);
  await rawPush(fx, newSid, `40{"pid":"${pid}","offset":"${offset}"}`);
  const packets = (await rawPoll(fx, newSid)).split("\x1e");
  assert.equal(packets.length, 4, packets.join(" | "));
  assert.ok(packets[0].startsWith('42["hello1"'), packets[0]);
  assert.ok(packets[1].startsWith('42["hello2"'), packets[1]);
  assert.ok(packets[2].startsWith('42["hello3"'), packets[2]);
  assert.equal(packets[3], `40{"sid":"${socket.id}","pid":"${pid}"}`);
});

// ---- private members that tests and tools reach ----

// upstream server-attachment.ts "should work with #attach (and merge options)"
test("io.eio is the engine, with the constructor's and attach()'s options merged", (t) => {
  const http = createServer();
  const io = new Server({ pingTimeout: 6000 });
  io.attach(http, { pingInterval: 24000 });
  t.after(() => io.close());
  assert.equal(io.eio, io.engine);
  assert.equal(io.eio.opts.pingTimeout, 6000);
  assert.equal(io.eio.opts.pingInterval, 24000);
});

// upstream messaging-many.ts "keeps track of rooms", "should properly cleanup left rooms"
test("socket.leaveAll() leaves every room, its own included", async (t) => {
  const fx = await ioForTest(t);
  const { socket } = await connectPair(fx, MODES[0]);
  socket.join(["a", "b"]);
  socket.leave("unknown");
  assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", "b"].sort());
  socket.leaveAll();
  assert.equal(socket.rooms.size, 0);
  assert.equal(fx.io.of("/").adapter.rooms.size, 0);
});

// upstream socket.ts "should handle transport null messages"
test("client.ondata(null): the socket gets an error, then disconnects with forced close", async (t) => {
  const fx = await ioForTest(t);
  const { socket } = await connectPair(fx, MODES[0]);
  const errors = collect<[Error]>(socket, "error", 1);
  const disconnected = once<[string]>(socket, "disconnect");
  (socket.client as unknown as { ondata(data: unknown): void }).ondata(null);
  const [[err]] = await within(errors, T, "error");
  assert.ok(err instanceof Error);
  assert.equal((await within(disconnected, T, "disconnect"))[0], "forced close");
});

// upstream socket.ts "should not crash with raw binary", "should handle empty binary packet"
test("a BINARY_EVENT without an attachment count: the error says Illegal attachments", async (t) => {
  const fx = await ioForTest(t);
  for (const raw of ["5woooot", "5"]) {
    const { client, socket } = await connectPair(fx, MODES[0]);
    const errors = collect<[Error]>(socket, "error", 1);
    client.io.engine.send(raw);
    const [[err]] = await within(errors, T, "error");
    assert.match(err.message, /Illegal attachments/, raw);
  }
});

// upstream middleware.ts "should only set `connected` to true after the middleware execution"
test("nsp._preConnectSockets holds the socket while its middlewares run, not once connected", async (t) => {
  const fx = await ioForTest(t);
  const nsp = fx.io.of("/");
  const seen: Array<[boolean, number, number]> = [];
  fx.io.use((socket, next) => {
    seen.push([socket.connected, nsp.sockets.size, nsp._preConnectSockets.size]);
    next();
  });
  const connected = once<[Socket]>(fx.io, "connection");
  fx.client("/", { transports: ["websocket"] });
  const [socket] = await within(connected, T, "connection");
  assert.deepEqual(seen, [[false, 0, 1]]);
  assert.equal(socket.connected, true);
  assert.equal(nsp.sockets.size, 1);
  assert.equal(nsp._preConnectSockets.size, 0);
});
