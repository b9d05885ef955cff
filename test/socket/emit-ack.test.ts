/**
 * Emitting and acknowledging, with the official socket.io-client v4 over WebSocket only and
 * polling only (and across the polling → WebSocket upgrade): every JSON and binary data
 * type both ways, acks both ways, `timeout()` and `emitWithAck`, `send`/`write`, catch-all
 * listeners, socket middlewares, `compress(false)`, `volatile`, and reserved event names
 * from both sides. Every delivery is counted: nothing lost, nothing duplicated.
 */
import { test, describe, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Server, Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { T, once, within, quiet } from "../helpers";
import { MODES, UPGRADE, bytes, collect, connectPair, roundTrip, type Mode, type Pair } from "./core-util";

/* eslint-disable @typescript-eslint/no-explicit-any */

async function setup(t: TestContext, mode: Mode, opts: Parameters<typeof startIo>[0] = {}): Promise<Pair & { fx: IoFixture; io: Server }> {
  const fx = await startIo(opts);
  t.after(() => fx.close());
  const pair = await connectPair(fx, mode);
  return { ...pair, fx, io: fx.io };
}

/** JSON values of every kind, as separate arguments. */
const JSON_ARGS: unknown[] = [
  "text",
  "ünïcødé ✓ 🎉 \u2028 \"quoted\" \\ back",
  "",
  0,
  -1.5,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  {},
  { nested: { deep: [1, "two", { three: 3, four: [null, true] }] }, "key with space": "v" },
  [1, [2, [3, [4]]]],
];

/**
 * Binary of every kind, nested at several depths, with JSON around it: 9 attachments, so
 * that with one more argument a packet has 10, the most both parsers accept by default.
 */
function binaryPayload() {
  const shared = new ArrayBuffer(8);
  new Uint8Array(shared).set([10, 11, 12, 13, 14, 15, 16, 17]);
  return {
    buffer: Buffer.from([1, 2, 3]),
    arrayBuffer: new Uint8Array([4, 5]).buffer,
    i16: new Int16Array([-2, 300]),
    f64: new Float64Array([1.5]),
    // A view on part of a larger buffer: only its own bytes travel.
    slice: new Uint8Array(shared, 2, 3),
    view: new DataView(shared, 5, 2),
    empty: Buffer.alloc(0),
    list: [Buffer.from("x"), { deeper: { bin: Buffer.from([255, 0]) } }, "not binary"],
    text: "plain",
    n: 7,
  };
}

/** Checks a received copy of `binaryPayload()`: every binary arrives as bytes, the rest as JSON. */
function assertBinaryPayload(received: any): void {
  const sent = binaryPayload();
  for (const key of ["buffer", "arrayBuffer", "i16", "f64", "slice", "view", "empty"] as const) {
    assert.ok(Buffer.isBuffer(received[key]), `${key} is a Buffer`);
    assert.deepEqual(bytes(received[key]), bytes(sent[key]), key);
  }
  assert.deepEqual(bytes(received.list[0]), [120]);
  assert.deepEqual(bytes(received.list[1].deeper.bin), [255, 0]);
  assert.equal(received.list[2], "not binary");
  assert.equal(received.text, "plain");
  assert.equal(received.n, 7);
  assert.deepEqual(Object.keys(received).sort(), Object.keys(sent).sort());
}

for (const mode of MODES) {
  describe(`emit and ack over ${mode.name}`, () => {
    // ---- data types ----

    test("server → client: JSON values of every kind, as many arguments", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(client, "types", 2);
      socket.emit("types", ...JSON_ARGS);
      socket.emit("types");
      const [first, second] = await within(got, T, "types");
      assert.deepEqual(first, JSON_ARGS);
      assert.deepEqual(second, [], "an event without arguments");
    });

    test("client → server: JSON values of every kind, as many arguments", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(socket, "types", 2);
      client.emit("types", ...JSON_ARGS);
      client.emit("types");
      const [first, second] = await within(got, T, "types");
      assert.deepEqual(first, JSON_ARGS);
      assert.deepEqual(second, []);
    });

    test("undefined arguments travel as null (JSON)", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(client, "u", 1);
      socket.emit("u", undefined, 1, { a: undefined, b: 2 });
      assert.deepEqual((await within(got, T, "u"))[0], [null, 1, { b: 2 }]);
    });

    test("server → client: Buffer, ArrayBuffer, typed arrays and DataView nested in objects", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(client, "bin", 1);
      const payload = binaryPayload();
      socket.emit("bin", payload, Buffer.from([9]), "after");
      const [[received, top, after]] = await within(got, T, "bin");
      assertBinaryPayload(received);
      assert.deepEqual(bytes(top), [9]);
      assert.equal(after, "after");
      // The application's object is left as it was (no placeholders written into it).
      assert.ok(Buffer.isBuffer(payload.buffer));
      assert.ok(payload.list[0] instanceof Buffer);
    });

    test("client → server: binary of every kind nested in objects", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(socket, "bin", 2);
      client.emit("bin", binaryPayload(), new Uint8Array([9, 8]).buffer);
      client.emit("bin", [new Uint16Array([1, 2])]);
      const [[received, top], [list]] = await within(got, T, "bin");
      assertBinaryPayload(received);
      assert.ok(Buffer.isBuffer(top));
      assert.deepEqual(bytes(top), [9, 8]);
      assert.deepEqual(bytes((list as unknown[])[0]), [1, 0, 2, 0]);
    });

    test("client → server: 11 attachments in one packet exceed the parser's limit: parse error", async (t) => {
      const { client, socket } = await setup(t, mode);
      let delivered = 0;
      socket.on("many", () => delivered++);
      const disconnected = once<[string]>(socket, "disconnect");
      client.emit("many", ...Array.from({ length: 11 }, (_, i) => Buffer.from([i])));
      assert.equal((await within(disconnected, T, "disconnect"))[0], "parse error");
      assert.equal(delivered, 0);
    });

    test("order is kept: 200 events each way, none lost or duplicated", async (t) => {
      const { client, socket } = await setup(t, mode);
      const N = 200;
      const toClient = collect<[number]>(client, "seq", N);
      const toServer = collect<[number]>(socket, "seq", N);
      for (let i = 0; i < N; i++) {
        socket.emit("seq", i);
        client.emit("seq", i);
      }
      const expected = Array.from({ length: N }, (_, i) => [i]);
      assert.deepEqual(await within(toClient, T, "to client"), expected);
      assert.deepEqual(await within(toServer, T, "to server"), expected);
      let extra = 0;
      client.on("seq", () => extra++);
      socket.on("seq", () => extra++);
      await quiet(100);
      assert.equal(extra, 0);
    });

    test("order is kept between direct emits and broadcasts to the same socket", async (t) => {
      const { client, socket, io } = await setup(t, mode);
      const N = 60;
      const got = collect<[number]>(client, "mix", N);
      for (let i = 0; i < N; i++) {
        // Direct writes, broadcasts (shared encoding / WebSocket frame) and binary, interleaved.
        if (i % 3 === 0) socket.emit("mix", i);
        else if (i % 3 === 1) io.to(socket.id).emit("mix", i);
        else io.emit("mix", i, Buffer.from([i]));
      }
      const received = await within(got, T, "mixed");
      assert.deepEqual(received.map((args) => args[0]), Array.from({ length: N }, (_, i) => i));
    });

    // ---- acknowledgements ----

    test("client emits with an ack; the server answers with several values and binary", async (t) => {
      const { client, socket } = await setup(t, mode);
      socket.on("sum", (a: number, b: number, ack: (...args: unknown[]) => void) => {
        assert.equal(typeof ack, "function");
        ack(a + b, { bin: Buffer.from([a, b]) }, null);
        ack("second call is ignored");
      });
      const answers: unknown[][] = [];
      const answered = new Promise<void>((resolve) =>
        client.emit("sum", 2, 3, (...args: unknown[]) => {
          answers.push(args);
          resolve();
        }),
      );
      await within(answered, T, "ack");
      await roundTrip(client, socket);
      assert.equal(answers.length, 1, "the ack is sent once");
      const [sum, obj, nothing] = answers[0] as [number, { bin: Buffer }, null];
      assert.equal(sum, 5);
      assert.deepEqual(bytes(obj.bin), [2, 3]);
      assert.equal(nothing, null);
      assert.equal(answers[0].length, 3);
      // And as a Promise, from the client.
      assert.equal(await within(client.emitWithAck("sum", 10, 20), T, "client emitWithAck"), 30);
    });

    test("server emits with an ack; the client answers", async (t) => {
      const { client, socket } = await setup(t, mode);
      client.on("ask", (q: string, bin: Buffer, ack: (...args: unknown[]) => void) => ack(q + "!", Buffer.concat([bin, bin])));
      const answers: unknown[][] = [];
      const answered = new Promise<void>((resolve) =>
        socket.emit("ask", "why", Buffer.from([7]), (...args: unknown[]) => {
          answers.push(args);
          resolve();
        }),
      );
      await within(answered, T, "ack");
      assert.equal(answers.length, 1);
      assert.equal(answers[0][0], "why!");
      assert.deepEqual(bytes(answers[0][1]), [7, 7]);
      assert.equal(socket.acks.size, 0, "the answered ack is released");
    });

    test("acks are matched by id: concurrent asks get their own answers", async (t) => {
      const { client, socket } = await setup(t, mode);
      // The client answers out of order.
      const pending: Array<() => void> = [];
      client.on("double", (n: number, ack: (v: number) => void) => {
        pending.push(() => ack(n * 2));
        if (pending.length === 20) pending.reverse().forEach((fn) => fn());
      });
      const results = await within(Promise.all(Array.from({ length: 20 }, (_, i) => socket.emitWithAck("double", i))), T, "answers");
      assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 2));
    });

    test("socket.timeout(ms).emit: answered in time → (null, ...answer)", async (t) => {
      const { client, socket } = await setup(t, mode);
      client.on("ask", (x: number, ack: (a: number, b: string) => void) => ack(x + 1, "ok"));
      const calls: unknown[][] = [];
      const done = new Promise<void>((resolve) =>
        socket.timeout(1000).emit("ask", 1, (...args: unknown[]) => {
          calls.push(args);
          resolve();
        }),
      );
      await within(done, T, "ack");
      assert.deepEqual(calls, [[null, 2, "ok"]]);
      await quiet(50);
      assert.equal(calls.length, 1);
    });

    test("socket.timeout(ms).emit: no answer → an error once, a late answer is ignored", async (t) => {
      const { client, socket } = await setup(t, mode);
      const late = new Promise<void>((resolve) =>
        client.on("slow", (ack: (v: string) => void) => setTimeout(() => (ack("late"), resolve()), 250)),
      );
      const calls: unknown[][] = [];
      const started = Date.now();
      const timedOut = new Promise<void>((resolve) =>
        socket.timeout(100).emit("slow", (...args: unknown[]) => {
          calls.push(args);
          resolve();
        }),
      );
      await within(timedOut, T, "timeout");
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 90, `timed out after ${elapsed} ms`);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].length, 1);
      assert.ok(calls[0][0] instanceof Error);
      assert.equal((calls[0][0] as Error).message, "operation has timed out");
      await within(late, T, "late answer sent");
      await roundTrip(client, socket);
      assert.equal(calls.length, 1, "the late answer does not call the callback again");
      // The timeout applied to that emit only: the next one waits for its answer.
      client.on("ok", (ack: (v: string) => void) => setTimeout(() => ack("fine"), 150));
      assert.equal(await within(socket.emitWithAck("ok"), T, "no timeout flag left"), "fine");
    });

    test("socket.emitWithAck resolves with the answer; with timeout() it rejects", async (t) => {
      const { client, socket } = await setup(t, mode);
      client.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
      client.on("silent", () => {});
      assert.deepEqual(await within(socket.emitWithAck("echo", { a: [1] }), T, "echo"), { a: [1] });
      assert.equal(await within(socket.timeout(1000).emitWithAck("echo", "in time"), T, "echo with timeout"), "in time");
      await assert.rejects(within(socket.timeout(100).emitWithAck("silent"), T, "silent"), (err: Error) => {
        assert.equal(err.message, "operation has timed out");
        return true;
      });
    });

    test("client-side timeout acks: the server's answer reaches the client's callback", async (t) => {
      const { client, socket } = await setup(t, mode);
      socket.on("q", (ack: (v: string) => void) => ack("a"));
      socket.on("never", () => {});
      assert.equal(await within(client.timeout(1000).emitWithAck("q"), T, "q"), "a");
      await assert.rejects(within(client.timeout(100).emitWithAck("never"), T, "never"), /operation has timed out/);
    });

    // ---- send / write ----

    test("send and write are the message event, both ways", async (t) => {
      const { client, socket } = await setup(t, mode);
      const toClient = collect<unknown[]>(client, "message", 2);
      assert.equal(socket.send("a", 1), socket);
      assert.equal(socket.write("b"), socket);
      assert.deepEqual(await within(toClient, T, "messages"), [["a", 1], ["b"]]);
      const toServer = collect<unknown[]>(socket, "message", 1);
      client.send("c", { d: true });
      assert.deepEqual(await within(toServer, T, "message"), [["c", { d: true }]]);
    });

    // ---- catch-all listeners ----

    test("onAny, prependAny, offAny, listenersAny (incoming)", async (t) => {
      const { client, socket } = await setup(t, mode);
      const calls: string[] = [];
      const first = (ev: string, ...args: unknown[]) => calls.push(`first:${ev}:${JSON.stringify(args)}`);
      const zeroth = (ev: string) => calls.push(`zeroth:${ev}`);
      const third = (ev: string) => calls.push(`third:${ev}`);
      assert.deepEqual(socket.listenersAny(), []);
      assert.equal(socket.onAny(first), socket);
      socket.prependAny(zeroth);
      socket.onAny(third);
      assert.deepEqual(socket.listenersAny(), [zeroth, first, third]);
      socket.on("e", (n: number) => calls.push(`listener:e:${n}`));
      client.emit("e", 1);
      await roundTrip(client, socket);
      socket.offAny(third);
      client.emit("acked", () => {});
      await roundTrip(client, socket);
      assert.deepEqual(calls.filter((c) => !c.includes("__sync")), [
        "zeroth:e",
        "first:e:[1]",
        "third:e",
        "listener:e:1",
        "zeroth:acked",
        // JSON.stringify drops the ack function, written as null in an array.
        "first:acked:[null]",
      ]);
      calls.length = 0;
      socket.offAny(zeroth);
      assert.deepEqual(socket.listenersAny(), [first]);
      socket.offAny();
      assert.deepEqual(socket.listenersAny(), []);
      client.emit("e", 2);
      await roundTrip(client, socket);
      assert.deepEqual(calls, ["listener:e:2"]);
    });

    test("onAny sees the ack function, and can be used to answer", async (t) => {
      const { client, socket } = await setup(t, mode);
      socket.onAny((ev: string, ...args: unknown[]) => {
        const ack = args[args.length - 1];
        if (ev === "any-ack" && typeof ack === "function") ack("from onAny");
      });
      assert.equal(await within(client.emitWithAck("any-ack", 1), T, "ack from onAny"), "from onAny");
    });

    test("onAnyOutgoing, prependAnyOutgoing, offAnyOutgoing, listenersAnyOutgoing", async (t) => {
      const { client, socket, io } = await setup(t, mode);
      const calls: string[] = [];
      const first = (ev: string, ...args: unknown[]) =>
        calls.push(`first:${ev}:${args.map((a) => (Buffer.isBuffer(a) ? "buf" + bytes(a).join(",") : JSON.stringify(a))).join("|")}`);
      const zeroth = (ev: string) => calls.push(`zeroth:${ev}`);
      assert.deepEqual(socket.listenersAnyOutgoing(), []);
      assert.equal(socket.onAnyOutgoing(first), socket);
      socket.prependAnyOutgoing(zeroth);
      assert.deepEqual(socket.listenersAnyOutgoing(), [zeroth, first]);
      client.on("q", (ack: (v: number) => void) => ack(1));
      const received = collect(client, "out", 3);
      socket.emit("out", 1, { a: 2 });
      await socket.emitWithAck("q");
      // Broadcasts reach the outgoing listeners of each recipient socket too; binary stays binary.
      io.emit("out", Buffer.from([5, 6]));
      io.to(socket.id).emit("out", "room");
      await within(received, T, "client received");
      assert.deepEqual(calls, [
        "zeroth:out",
        'first:out:1|{"a":2}',
        "zeroth:q",
        "first:q:", // the ack callback is not among the arguments
        "zeroth:out",
        "first:out:buf5,6",
        "zeroth:out",
        'first:out:"room"',
      ]);
      calls.length = 0;
      socket.offAnyOutgoing(zeroth);
      assert.deepEqual(socket.listenersAnyOutgoing(), [first]);
      socket.offAnyOutgoing();
      assert.deepEqual(socket.listenersAnyOutgoing(), []);
      const more = collect(client, "out", 1);
      socket.emit("out", 3);
      await within(more, T, "client received");
      assert.deepEqual(calls, []);
    });

    // ---- socket middlewares ----

    test("socket.use: runs in order before listeners and may change the arguments", async (t) => {
      const { client, socket } = await setup(t, mode);
      const order: string[] = [];
      socket.use((event, next) => {
        order.push("mw1:" + event[0]);
        if (event[0] === "shout") event[1] = String(event[1]).toUpperCase();
        next();
      });
      socket.use(([name, ...args], next) => {
        order.push(`mw2:${name}:${args.length}`);
        // Asynchronous middlewares are fine.
        setTimeout(next, 10);
      });
      socket.onAny((ev: string) => order.push("any:" + ev));
      const got = collect<unknown[]>(socket, "shout", 1);
      client.emit("shout", "hello", 2);
      assert.deepEqual(await within(got, T, "shout"), [["HELLO", 2]]);
      // An ack function goes through the middlewares as the last argument and still works.
      socket.on("acked", (v: string, ack: (v: string) => void) => ack(v + "!"));
      assert.equal(await within(client.emitWithAck("acked", "x"), T, "acked"), "x!");
      // onAny runs first, on the arguments as received.
      assert.deepEqual(order.slice(0, 3), ["any:shout", "mw1:shout", "mw2:shout:2"]);
      assert.deepEqual(order.slice(3), ["any:acked", "mw1:acked", "mw2:acked:2"]);
    });

    test("socket.use: next(err) emits error on the socket, the listener is not called, the connection stays", async (t) => {
      const { client, socket } = await setup(t, mode);
      socket.use((event, next) => (event[0] === "forbidden" ? next(Object.assign(new Error("not allowed"), { data: 1 })) : next()));
      const errors: Error[] = [];
      socket.on("error", (err) => errors.push(err));
      let called = 0;
      socket.on("forbidden", () => called++);
      client.emit("forbidden", 1);
      await roundTrip(client, socket);
      assert.equal(called, 0);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, "not allowed");
      assert.equal(socket.connected, true);
      assert.equal(client.connected, true);
    });

    test("socket.use: next(err) without an error listener does not crash", async (t) => {
      const { client, socket } = await setup(t, mode);
      socket.use((_event, next) => next(new Error("refused")));
      let called = 0;
      socket.on("x", () => called++);
      client.emit("x");
      client.emit("x");
      await quiet(100);
      assert.equal(called, 0);
      assert.equal(socket.connected, true);
      assert.equal(client.connected, true);
    });

    // ---- flags ----

    test("compress(false) applies to that emit only", async (t) => {
      const { client, socket } = await setup(t, mode);
      const created: Array<[string, unknown]> = [];
      socket.conn.on("packetCreate", (packet: { type: string; data?: unknown; options?: { compress?: boolean } }) => {
        if (packet.type === "message") created.push([String(packet.data), packet.options?.compress]);
      });
      const got = collect<[string]>(client, "c", 3);
      assert.equal(socket.compress(false).emit("c", "off"), true);
      socket.emit("c", "default");
      socket.compress(true).emit("c", "on");
      assert.deepEqual(await within(got, T, "compressed"), [["off"], ["default"], ["on"]]);
      assert.deepEqual(created, [
        ['2["c","off"]', false],
        ['2["c","default"]', true],
        ['2["c","on"]', true],
      ]);
    });

    test("volatile: delivered when the transport can take it; the flag is for one emit", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<[number]>(client, "v", 2);
      const all: number[] = [];
      client.on("v", (n: number) => all.push(n));
      // Over polling, writable means a GET is waiting.
      const transport = socket.conn.transport;
      if (!transport.writable) await within(once(transport, "ready"), T, "transport ready");
      socket.volatile.emit("v", 1);
      await quiet(50);
      socket.emit("v", 2);
      assert.deepEqual(await within(got, T, "volatile"), [[1], [2]]);
      await quiet(50);
      assert.deepEqual(all, [1, 2]);
    });

    // ---- reserved names ----

    test("emitting a reserved name from the server throws and sends nothing", async (t) => {
      const { client, socket, io } = await setup(t, mode);
      const received: string[] = [];
      client.onAny((ev: string) => received.push(ev));
      for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
        const emitters: Array<[string, () => unknown]> = [
          ["socket.emit", () => socket.emit(name as any)],
          ["socket.broadcast.emit", () => socket.broadcast.emit(name as any)],
          ["socket.to().emit", () => socket.to("room").emit(name as any)],
          ["io.emit", () => io.emit(name as any)],
          ["io.to().emit", () => io.to(socket.id).emit(name as any)],
          ["io.of().emit", () => io.of("/").emit(name as any)],
        ];
        for (const [what, emit] of emitters) {
          assert.throws(emit, (err: Error) => err.message === `"${name}" is a reserved event name`, `${what}("${name}")`);
        }
      }
      socket.emit("fine");
      await within(once(client, "fine"), T, "a regular event still goes");
      assert.deepEqual(received, ["fine"]);
      assert.equal(socket.connected, true);
      // With flags too (last: a throwing emit leaves its flags for the next one, as upstream).
      assert.throws(() => socket.timeout(10).emit("disconnect" as any, () => {}), /reserved event name/);
      assert.throws(() => socket.volatile.compress(false).emit("connect" as any), /reserved event name/);
      await quiet(50);
      assert.deepEqual(received, ["fine"]);
    });

    test("the server may emit 'error' to the client (not reserved)", async (t) => {
      const { client, socket } = await setup(t, mode);
      const got = collect<unknown[]>(client, "error", 1);
      socket.emit("error", "custom", 1);
      assert.deepEqual(await within(got, T, "error event"), [["custom", 1]]);
      assert.equal(client.connected, true);
    });

    for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      test(`a client emitting "${name}": refused by the parser, "parse error", the server goes on`, async (t) => {
        const fx = await startIo();
        t.after(() => fx.close());
        const { client, socket } = await connectPair(fx, mode);
        const events: string[] = [];
        socket.on("error", (err) => events.push("error:" + (err instanceof Error)));
        const disconnected = once<[string]>(socket, "disconnect");
        // Around socket.io-client's own check: the raw packet, through its engine.
        client.io.engine.send(`2${JSON.stringify([name, "x"])}`);
        const [reason] = await within(disconnected, T, "disconnect");
        assert.equal(reason, "parse error");
        assert.deepEqual(events, ["error:true"]);
        await within(once(client, "disconnect"), T, "client disconnected");
        // The server still serves others.
        const other = await connectPair(fx, mode);
        other.socket.on("ping2", (ack: (v: string) => void) => ack("pong"));
        assert.equal(await within(other.client.emitWithAck("ping2"), T, "other client"), "pong");
      });
    }

    test(`a client emitting "error": delivered to an error listener, harmless without one`, async (t) => {
      const { client, socket } = await setup(t, mode);
      // No listener: nothing happens, the connection stays.
      client.io.engine.send('2["error","no listener"]');
      await roundTrip(client, socket);
      assert.equal(socket.connected, true);
      const got = collect<unknown[]>(socket, "error", 1);
      client.io.engine.send('2["error","boom",{"x":1}]');
      assert.deepEqual(await within(got, T, "error listener"), [["boom", { x: 1 }]]);
      await roundTrip(client, socket);
      assert.equal(socket.connected, true);
      assert.equal(client.connected, true);
    });
  });
}

// ---- volatile over polling: dropped while no GET is waiting ----

test("volatile over polling: dropped while the client has no poll pending, others still delivered", async (t) => {
  const { client, socket } = await setup(t, MODES.find((m) => m.name === "polling") as Mode);
  const received: string[] = [];
  client.on("p", (v: string) => received.push(v));
  const done = collect(client, "p", 2);
  socket.conn.once("drain", () => {
    // The poll response was just written: the transport waits for the next GET.
    assert.equal(socket.conn.transport.writable, false);
    socket.volatile.emit("p", "volatile");
    setImmediate(() => socket.emit("p", "b"));
  });
  socket.emit("p", "a");
  await within(done, T, "a and b");
  await quiet(100);
  assert.deepEqual(received, ["a", "b"]);
});

// ---- across the polling → WebSocket upgrade ----

describe("emit and ack across the upgrade", () => {
  test("bursts each way while upgrading: everything once, in order, every ack answered once", async (t) => {
    const fx = await startIo();
    t.after(() => fx.close());
    const N = 300;
    const connection = once<[Socket]>(fx.io, "connection");
    const client = fx.client("/", { transports: UPGRADE.transports });
    const [socket] = await within(connection, T, "connection");
    const toClient: number[] = [];
    const toServer: number[] = [];
    const serverAcks: number[] = [];
    const clientAcks: number[] = [];
    client.on("s2c", (i: number, bin: Buffer, ack: (v: number) => void) => {
      toClient.push(i);
      assert.deepEqual(bytes(bin), [i & 255]);
      ack(i);
    });
    socket.on("c2s", (i: number, ack: (v: number) => void) => {
      toServer.push(i);
      ack(i + 1000);
    });
    const allServerAcks = new Promise<void>((resolve) => {
      let i = 0;
      // Spread over many turns so that the upgrade happens in the middle.
      const tick = () => {
        for (const end = Math.min(i + 10, N); i < end; i++) {
          socket.emit("s2c", i, Buffer.from([i & 255]), (v: number) => {
            serverAcks.push(v);
            if (serverAcks.length === N) resolve();
          });
        }
        if (i < N) setTimeout(tick, 1);
      };
      tick();
    });
    const allClientAcks = new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        for (const end = Math.min(i + 10, N); i < end; i++) {
          client.emit("c2s", i, (v: number) => {
            clientAcks.push(v);
            if (clientAcks.length === N) resolve();
          });
        }
        if (i < N) setTimeout(tick, 1);
      };
      if (client.connected) tick();
      else client.once("connect", tick);
    });
    await within(Promise.all([allServerAcks, allClientAcks]), 10_000, "all acks");
    const seq = Array.from({ length: N }, (_, i) => i);
    assert.deepEqual(toClient, seq);
    assert.deepEqual(toServer, seq);
    assert.deepEqual(serverAcks, seq);
    assert.deepEqual(clientAcks, seq.map((i) => i + 1000));
    if (!socket.conn.upgraded) await within(once(socket.conn, "upgrade"), T, "upgrade");
    assert.equal(socket.conn.transport.name, "websocket");
    await roundTrip(client, socket);
    assert.equal(toClient.length + toServer.length, 2 * N, "nothing duplicated after the upgrade");
  });
});
