/**
 * Rooms and broadcasting, with the official socket.io-client v4 over WebSocket only and
 * polling only (and a mix of transports): join/leave and the adapter's maps and events;
 * broadcasts from the server, a namespace and a socket with every selector and flag;
 * broadcast acknowledgements; fetchSockets, socketsJoin/Leave, disconnectSockets,
 * allSockets; serverSideEmit with the in-memory adapter.
 *
 * Deliveries are counted exactly: after each broadcast a marker event is sent to every
 * client, and since one connection keeps order, a client that got the marker has
 * received everything the broadcast would ever bring it.
 */
import { test, describe, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Manager, type Socket as ClientSocket } from "socket.io-client";
import type { Server, Socket } from "../../src/index";
import { startIo, type IoFixture } from "../socket-helpers";
import { T, once, within, quiet } from "../helpers";
import { MODES, POLLING, UPGRADE, WEBSOCKET, bytes, collect, connectPair, type Mode, type Pair } from "./core-util";

/* eslint-disable @typescript-eslint/no-explicit-any */

const NAMES = ["A", "B", "C", "D"] as const;
type Name = (typeof NAMES)[number];

interface World {
  fx: IoFixture;
  io: Server;
  /** The four connections, by name. */
  p: Record<Name, Pair>;
  /** Every `event` each client received, as "Name:json(args)", in arrival order. */
  log: string[];
  /** Records `event` on every client into `log`. */
  listen(event: string): void;
  /** Waits until every client has received everything sent to it so far. */
  barrier(): Promise<void>;
  /** `log` sorted, then cleared. */
  take(): string[];
}

/**
 * Four clients: A in r1, B in r1 and r2, C in r2, D in no room. `modes` gives each
 * client's transports (one mode for all, or one per client).
 */
async function world(t: TestContext, modes: Mode | Mode[]): Promise<World> {
  const fx = await startIo();
  t.after(() => fx.close());
  const p = {} as Record<Name, Pair>;
  for (const [i, name] of NAMES.entries()) {
    p[name] = await connectPair(fx, Array.isArray(modes) ? modes[i] : modes, { query: { name } });
  }
  p.A.socket.join("r1");
  p.B.socket.join(["r1", "r2"]);
  p.C.socket.join("r2");
  const log: string[] = [];
  let marker = 0;
  const w: World = {
    fx,
    io: fx.io,
    p,
    log,
    listen(event) {
      for (const name of NAMES) {
        p[name].client.on(event, (...args: unknown[]) => log.push(`${name}:${JSON.stringify(args.map(show))}`));
      }
    },
    async barrier() {
      const ev = `__barrier${marker++}`;
      const arrived = NAMES.map((name) => once(p[name].client, ev));
      fx.io.emit(ev);
      await within(Promise.all(arrived), T, "barrier");
    },
    take() {
      const out = [...log].sort();
      log.length = 0;
      return out;
    },
  };
  return w;
}

/** Buffers shown by their bytes, so that logs compare as strings. */
function show(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `<${bytes(value).join(",")}>`;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]));
  }
  return value;
}

/** Expected log entries: each listed client got `args` once. */
function got(names: string, ...args: unknown[]): string[] {
  return [...names].map((name) => `${name}:${JSON.stringify(args)}`).sort();
}

for (const mode of MODES) {
  describe(`rooms over ${mode.name}`, () => {
    test("join and leave (one room or several): socket.rooms, adapter maps and room events", async (t) => {
      const fx = await startIo();
      t.after(() => fx.close());
      const one = await connectPair(fx, mode);
      const adapter = fx.io.sockets.adapter;
      const raw: string[] = [];
      adapter.on("create-room", (room: string) => raw.push(`create ${room}`));
      adapter.on("delete-room", (room: string) => raw.push(`delete ${room}`));
      adapter.on("join-room", (room: string, sid: string) => raw.push(`join ${room} ${sid}`));
      adapter.on("leave-room", (room: string, sid: string) => raw.push(`leave ${room} ${sid}`));
      // A socket joins the room of its own id when it connects.
      const two = await connectPair(fx, mode);
      /** The events so far, with the socket ids shown as "one" and "two". */
      const named = () =>
        raw.map((e) => e.split(" ").map((w) => (w === one.socket.id ? "one" : w === two.socket.id ? "two" : w)).join(" "));
      assert.deepEqual(named(), ["create two", "join two two"]);

      raw.length = 0;
      one.socket.join("a");
      one.socket.join(["a", "b"]);
      two.socket.join(["a"]);
      assert.deepEqual([...one.socket.rooms].sort(), [one.socket.id, "a", "b"].sort());
      assert.deepEqual([...two.socket.rooms].sort(), [two.socket.id, "a"].sort());
      assert.deepEqual([...(adapter.rooms.get("a") ?? [])].sort(), [one.socket.id, two.socket.id].sort());
      assert.deepEqual([...(adapter.rooms.get("b") ?? [])], [one.socket.id]);
      assert.deepEqual([...(adapter.sids.get(one.socket.id) ?? [])].sort(), [one.socket.id, "a", "b"].sort());
      assert.deepEqual(named(), ["create a", "join a one", "create b", "join b one", "join a two"]);

      raw.length = 0;
      one.socket.leave("a");
      one.socket.leave("never-joined");
      assert.deepEqual(named(), ["leave a one"], "a room with members left is not deleted");
      two.socket.leave("a");
      assert.deepEqual(named(), ["leave a one", "leave a two", "delete a"]);
      assert.equal(adapter.rooms.has("a"), false);
      assert.deepEqual([...one.socket.rooms].sort(), [one.socket.id, "b"].sort());

      raw.length = 0;
      const gone = once(one.socket, "disconnect");
      one.client.disconnect();
      await within(gone, T, "disconnect");
      assert.deepEqual(named(), ["leave one one", "delete one", "leave b one", "delete b"]);
      assert.equal(adapter.sids.has(one.socket.id), false);
      assert.deepEqual([...adapter.rooms.keys()], [two.socket.id]);
      // Once disconnected, joining does nothing: no room would ever be cleaned up.
      raw.length = 0;
      one.socket.join("late");
      assert.equal(adapter.rooms.has("late"), false);
      assert.deepEqual(named(), []);
    });

    test("broadcast selectors from the server: emit, to, in, except, several rooms (each socket once)", async (t) => {
      const w = await world(t, mode);
      const { io } = w;
      w.listen("m");
      const cases: Array<[string, () => unknown, string]> = [
        ["io.emit", () => io.emit("m", 1), "ABCD"],
        ["io.sockets.emit", () => io.sockets.emit("m", 1), "ABCD"],
        ["io.of('/').emit", () => io.of("/").emit("m", 1), "ABCD"],
        ["io.to(r1)", () => io.to("r1").emit("m", 1), "AB"],
        ["io.in(r2)", () => io.in("r2").emit("m", 1), "BC"],
        ["io.to([r1, r2])", () => io.to(["r1", "r2"]).emit("m", 1), "ABC"],
        ["io.to(r1).to(r2)", () => io.to("r1").to("r2").emit("m", 1), "ABC"],
        ["io.to(r1).in(r1)", () => io.to("r1").in("r1").emit("m", 1), "AB"],
        ["io.except(r1)", () => io.except("r1").emit("m", 1), "CD"],
        ["io.except([r1, r2])", () => io.except(["r1", "r2"]).emit("m", 1), "D"],
        ["io.to(r2).except(r1)", () => io.to("r2").except("r1").emit("m", 1), "C"],
        ["io.to(socket id)", () => io.to(w.p.D.socket.id).emit("m", 1), "D"],
        ["io.to([id, r1])", () => io.to([w.p.A.socket.id, "r1"]).emit("m", 1), "AB"],
        ["io.to(unknown room)", () => io.to("nobody").emit("m", 1), ""],
        ["io.local", () => io.local.emit("m", 1), "ABCD"],
        ["io.local.to(r1)", () => io.local.to("r1").emit("m", 1), "AB"],
        ["io.sockets.to(r2).except(B)", () => io.sockets.to("r2").except(w.p.B.socket.id).emit("m", 1), "C"],
      ];
      for (const [what, emit, expected] of cases) {
        assert.equal(emit(), true, what);
        await w.barrier();
        assert.deepEqual(w.take(), got(expected, 1), what);
      }
    });

    test("broadcast from a socket: broadcast, to, except, never to itself", async (t) => {
      const w = await world(t, mode);
      const { A, B } = w.p;
      w.listen("m");
      const cases: Array<[string, () => unknown, string]> = [
        ["A.broadcast", () => A.socket.broadcast.emit("m", 2), "BCD"],
        ["A.to(r1) (A is in r1)", () => A.socket.to("r1").emit("m", 2), "B"],
        ["A.to(r2)", () => A.socket.to("r2").emit("m", 2), "BC"],
        ["A.in([r1, r2])", () => A.socket.in(["r1", "r2"]).emit("m", 2), "BC"],
        ["A.to(own id)", () => A.socket.to(A.socket.id).emit("m", 2), ""],
        ["A.to(B's id)", () => A.socket.to(B.socket.id).emit("m", 2), "B"],
        ["A.except(r2)", () => A.socket.except("r2").emit("m", 2), "D"],
        ["A.broadcast.except(r2)", () => A.socket.broadcast.except("r2").emit("m", 2), "D"],
        ["B.broadcast.to(r1)", () => B.socket.broadcast.to("r1").emit("m", 2), "A"],
        ["A.local", () => A.socket.local.emit("m", 2), "BCD"],
      ];
      for (const [what, emit, expected] of cases) {
        emit();
        await w.barrier();
        assert.deepEqual(w.take(), got(expected, 2), what);
      }
      // Flags set on the socket before broadcasting go with the broadcast, and are then gone.
      const created: unknown[] = [];
      for (const name of NAMES) {
        w.p[name].socket.conn.on("packetCreate", (pk: { data?: unknown; options?: { compress?: boolean } }) => {
          if (String(pk.data).includes('"m"')) created.push(`${name}:${pk.options?.compress}`);
        });
      }
      A.socket.compress(false).broadcast.emit("m", 3);
      A.socket.emit("m", 4);
      await w.barrier();
      assert.deepEqual(w.take(), [...got("A", 4), ...got("BCD", 3)].sort());
      assert.deepEqual(created.sort(), ["A:true", "B:false", "C:false", "D:false"]);
    });

    test("io.compress(false) and io.volatile reach every client", async (t) => {
      const w = await world(t, mode);
      w.listen("m");
      const created: string[] = [];
      for (const name of NAMES) {
        w.p[name].socket.conn.on("packetCreate", (pk: { data?: unknown; options?: { compress?: boolean } }) => {
          if (String(pk.data).includes('"m"')) created.push(`${name}:${pk.data}:${pk.options?.compress !== false}`);
        });
      }
      w.io.compress(false).emit("m", "nc");
      w.io.emit("m", "c");
      await w.barrier();
      assert.deepEqual(w.take(), [...got("ABCD", "nc"), ...got("ABCD", "c")].sort());
      assert.deepEqual(created.sort(), NAMES.flatMap((n) => [`${n}:2["m","c"]:true`, `${n}:2["m","nc"]:false`]).sort());
      // Volatile: delivered to whoever can take it now. Over polling, wait for every GET.
      for (const name of NAMES) {
        const transport = w.p[name].socket.conn.transport;
        if (!transport.writable) await within(once(transport, "ready"), T, "transport ready");
      }
      w.io.volatile.emit("m", "v");
      await w.barrier();
      assert.deepEqual(w.take(), got("ABCD", "v"));
    });

    test("binary broadcasts, to everyone and to rooms", async (t) => {
      const w = await world(t, mode);
      w.listen("bin");
      w.io.emit("bin", { b: Buffer.from([1, 2]) }, new Uint8Array([3]));
      w.io.to("r2").emit("bin", new Uint16Array([258]).buffer);
      w.p.D.socket.broadcast.to("r1").emit("bin", Buffer.from([9]));
      await w.barrier();
      assert.deepEqual(
        w.take(),
        [...got("ABCD", { b: "<1,2>" }, "<3>"), ...got("BC", "<2,1>"), ...got("AB", "<9>")].sort(),
      );
    });

    // ---- broadcast acknowledgements ----

    test("io.timeout().emit with ack: every client's response, once", async (t) => {
      const w = await world(t, mode);
      for (const name of NAMES) {
        w.p[name].client.on("q", (x: number, ack: (v: unknown) => void) => ack(name === "D" ? { name, bin: Buffer.from([x]) } : name + x));
      }
      const calls: unknown[][] = [];
      const done = new Promise<void>((resolve) =>
        w.io.timeout(2000).emit("q", 7, (...args: unknown[]) => {
          calls.push(args);
          resolve();
        }),
      );
      await within(done, T, "all responses");
      assert.equal(calls.length, 1);
      const [err, responses] = calls[0] as [Error | null, unknown[]];
      assert.equal(err, null);
      assert.deepEqual((responses.map(show) as unknown[]).map((r) => JSON.stringify(r)).sort(), ['"A7"', '"B7"', '"C7"', '{"name":"D","bin":"<7>"}'].sort());
      // Rooms and except apply as for any broadcast.
      const r1 = await within(w.io.to("r1").timeout(2000).emitWithAck("q", 1), T, "r1");
      assert.deepEqual([...r1].sort(), ["A1", "B1"]);
      const fromSocket = await within(w.p.B.socket.broadcast.timeout(2000).emitWithAck("q", 2), T, "from B");
      assert.deepEqual((fromSocket as unknown[]).map((r) => JSON.stringify(show(r))).sort(), ['"A2"', '"C2"', '{"name":"D","bin":"<2>"}'].sort());
      await quiet(50);
      assert.equal(calls.length, 1);
    });

    test("io.timeout().emit with ack: on timeout, the error and what arrived; late answers ignored", async (t) => {
      const w = await world(t, mode);
      w.p.A.client.on("q", (ack: (v: string) => void) => ack("A"));
      w.p.B.client.on("q", (ack: (v: string) => void) => ack("B"));
      w.p.C.client.on("q", () => {}); // never answers
      const lateSent = new Promise<void>((resolve) =>
        w.p.D.client.on("q", (ack: (v: string) => void) => setTimeout(() => (ack("D late"), resolve()), 400)),
      );
      const calls: unknown[][] = [];
      const started = Date.now();
      const done = new Promise<void>((resolve) =>
        w.io.timeout(200).emit("q", (...args: unknown[]) => {
          calls.push(args);
          resolve();
        }),
      );
      await within(done, T, "timeout");
      assert.ok(Date.now() - started >= 190);
      assert.equal(calls.length, 1);
      const [err, responses] = calls[0] as [Error, string[]];
      assert.ok(err instanceof Error);
      assert.equal(err.message, "operation has timed out");
      assert.deepEqual([...responses].sort(), ["A", "B"]);
      await within(lateSent, T, "late answer");
      await w.barrier();
      await quiet(50);
      assert.equal(calls.length, 1, "no second call for the late answer");
    });

    test("io.timeout().emitWithAck: resolves with all responses, rejects with err.responses", async (t) => {
      const w = await world(t, mode);
      for (const name of NAMES) w.p[name].client.on("q", (ack: (v: string) => void) => name !== "C" && ack(name));
      const r2 = await within(w.io.to("r2").except("r1").timeout(200).emitWithAck("q"), T, "only C, who never answers").catch(
        (err: Error & { responses?: unknown[] }) => err,
      );
      assert.ok(r2 instanceof Error);
      assert.equal(r2.message, "operation has timed out");
      assert.deepEqual((r2 as { responses?: unknown[] }).responses, []);
      const r1 = await within(w.io.in("r1").timeout(1000).emitWithAck("q"), T, "r1");
      assert.deepEqual([...r1].sort(), ["A", "B"]);
      await assert.rejects(w.io.timeout(150).emitWithAck("q"), (err: Error & { responses?: string[] }) => {
        assert.equal(err.message, "operation has timed out");
        assert.deepEqual([...(err.responses ?? [])].sort(), ["A", "B", "D"]);
        return true;
      });
    });

    test("a broadcast with ack that reaches nobody completes at once with no responses", async (t) => {
      const w = await world(t, mode);
      const started = Date.now();
      const result = await within(
        new Promise<unknown[]>((resolve) => w.io.to("nobody").timeout(3000).emit("q", (err: Error | null, res: unknown[]) => (assert.equal(err, null), resolve(res)))),
        1000,
        "empty broadcast ack",
      );
      assert.deepEqual(result, []);
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(await within(w.io.except(["r1", "r2", w.p.D.socket.id]).timeout(3000).emitWithAck("q"), 1000, "empty"), []);
    });

    // ---- fetchSockets and friends ----

    test("fetchSockets: local Socket objects whose emit, join, leave and disconnect work", async (t) => {
      const w = await world(t, mode);
      const { io, p } = w;
      p.A.socket.data = { user: "ann" };
      const all = await io.fetchSockets();
      assert.deepEqual(all.map((s) => s.id).sort(), NAMES.map((n) => p[n].socket.id).sort());
      for (const s of all) {
        const name = s.handshake.query.name as Name;
        assert.equal(s, p[name].socket as unknown, "the local Socket itself");
        assert.equal(s.handshake, p[name].socket.handshake);
      }
      const a = all.find((s) => s.id === p.A.socket.id)!;
      assert.deepEqual(a.data, { user: "ann" });
      assert.deepEqual([...a.rooms].sort(), [p.A.socket.id, "r1"].sort());

      const inR1 = await io.in("r1").fetchSockets();
      assert.deepEqual(inR1.map((s) => s.id).sort(), [p.A.socket.id, p.B.socket.id].sort());
      const notR1 = await io.except("r1").fetchSockets();
      assert.deepEqual(notR1.map((s) => s.id).sort(), [p.C.socket.id, p.D.socket.id].sort());
      assert.deepEqual(await io.to("nobody").fetchSockets(), []);

      w.listen("hi");
      a.emit("hi", "fetched");
      await w.barrier();
      assert.deepEqual(w.take(), got("A", "fetched"));
      a.join("x");
      assert.ok(p.A.socket.rooms.has("x"));
      a.leave("x");
      assert.ok(!p.A.socket.rooms.has("x"));

      const reason = once<[string]>(p.A.client, "disconnect");
      a.disconnect();
      assert.deepEqual(await within(reason, T, "disconnect"), ["io server disconnect", undefined]);
      assert.equal(p.A.socket.connected, false);
      assert.deepEqual((await io.fetchSockets()).length, 3);
    });

    test("socketsJoin and socketsLeave, with selectors", async (t) => {
      const w = await world(t, mode);
      const { io, p } = w;
      const rooms = (name: Name) => [...p[name].socket.rooms].filter((r) => r !== p[name].socket.id).sort();
      io.socketsJoin("all");
      io.in("r1").socketsJoin(["j1", "j2"]);
      io.except("r2").socketsJoin("not-r2");
      assert.deepEqual(rooms("A"), ["all", "j1", "j2", "not-r2", "r1"]);
      assert.deepEqual(rooms("B"), ["all", "j1", "j2", "r1", "r2"]);
      assert.deepEqual(rooms("C"), ["all", "r2"]);
      assert.deepEqual(rooms("D"), ["all", "not-r2"]);
      io.in("r2").socketsLeave("all");
      io.socketsLeave(["j1", "not-r2"]);
      assert.deepEqual(rooms("A"), ["all", "j2", "r1"]);
      assert.deepEqual(rooms("B"), ["j2", "r1", "r2"]);
      assert.deepEqual(rooms("C"), ["r2"]);
      assert.deepEqual(rooms("D"), ["all"]);
      assert.equal(io.sockets.adapter.rooms.has("j1"), false);
      // The rooms work for broadcasting.
      w.listen("m");
      io.to("all").emit("m", 0);
      io.to("j2").emit("m", 1);
      await w.barrier();
      assert.deepEqual(w.take(), [...got("AD", 0), ...got("AB", 1)].sort());
    });

    test("allSockets: the ids, of everyone or of rooms", async (t) => {
      const w = await world(t, mode);
      const { io, p } = w;
      assert.deepEqual([...(await io.allSockets())].sort(), NAMES.map((n) => p[n].socket.id).sort());
      assert.deepEqual([...(await io.in("r2").allSockets())].sort(), [p.B.socket.id, p.C.socket.id].sort());
      assert.deepEqual([...(await io.to(["r1", "r2"]).allSockets())].sort(), [p.A.socket.id, p.B.socket.id, p.C.socket.id].sort());
      assert.deepEqual([...(await io.of("/").in("nobody").allSockets())], []);
    });
  });

  // ---- disconnectSockets ----

  for (const close of [false, true]) {
    test(`disconnectSockets(${close}) over ${mode.name}: the selected sockets go; ${close ? "their connection too" : "their other namespaces stay"}`, async (t) => {
      const fx = await startIo();
      t.after(() => fx.close());
      fx.io.of("/other");
      // Two clients, each with "/" and "/other" over one connection.
      const managers = [0, 1].map(() => new Manager(fx.url, { transports: mode.transports, reconnection: false }));
      t.after(() => managers.forEach((m) => m.engine?.close()));
      const sockets: Array<{ main: ClientSocket; other: ClientSocket }> = managers.map((m) => ({ main: m.socket("/"), other: m.socket("/other") }));
      const connected = sockets.flatMap(({ main, other }) => [once(main, "connect"), once(other, "connect")]);
      const joined = collect<[Socket]>(fx.io, "connection", 2);
      sockets.forEach(({ main, other }) => (main.connect(), other.connect()));
      await within(Promise.all([...connected, joined]), T, "connect");
      const [[first]] = await joined;
      first.join("target");
      const target = sockets.find(({ main }) => main.id === first.id)!;
      const bystander = sockets.find(({ main }) => main.id !== first.id)!;

      const serverReason = once<[string]>(first, "disconnect");
      const connClosed = once(first.conn, "close");
      const mainReason = once<[string]>(target.main, "disconnect");
      const otherEvents: string[] = [];
      target.other.on("disconnect", (r) => otherEvents.push(r));
      const otherGone = once(target.other, "disconnect");
      fx.io.in("target").disconnectSockets(close);
      assert.equal((await within(serverReason, T, "server side"))[0], "server namespace disconnect");
      assert.equal((await within(mainReason, T, "client side"))[0], "io server disconnect");
      if (close) {
        // Every namespace of the connection is told (as upstream), then the connection closes.
        await within(otherGone, T, "other namespace");
        assert.deepEqual(otherEvents, ["io server disconnect"]);
        await within(connClosed, T, "the server closes the connection");
      } else {
        await quiet(150);
        assert.deepEqual(otherEvents, []);
        assert.equal(target.other.connected, true);
        assert.equal(first.conn.readyState, "open");
      }
      assert.equal(bystander.main.connected, true);
      assert.equal(bystander.other.connected, true);
      assert.equal(fx.io.sockets.sockets.size, 1);
    });
  }

  test(`io.disconnectSockets() disconnects every socket of "/" (${mode.name})`, async (t) => {
    const fx = await startIo();
    t.after(() => fx.close());
    const pairs = await Promise.all([0, 1, 2].map(() => connectPair(fx, mode)));
    const reasons = Promise.all(pairs.map(({ client }) => once<[string]>(client, "disconnect")));
    fx.io.disconnectSockets();
    assert.deepEqual((await within(reasons, T, "all disconnected")).map((r) => r[0]), Array(3).fill("io server disconnect"));
    assert.equal(fx.io.sockets.sockets.size, 0);
    assert.deepEqual([...fx.io.sockets.adapter.rooms.keys()], []);
  });
}

// ---- a mix of transports: the shared WebSocket frame must go to WebSocket clients only ----

test("broadcasts to a mix of polling, WebSocket and upgraded clients: text, binary, acks", async (t) => {
  const w = await world(t, [POLLING, WEBSOCKET, UPGRADE, POLLING]);
  assert.deepEqual(
    NAMES.map((n) => w.p[n].socket.conn.transport.name),
    ["polling", "websocket", "websocket", "polling"],
  );
  w.listen("m");
  for (let i = 0; i < 20; i++) w.io.emit("m", i, i % 2 ? Buffer.from([i]) : "text");
  w.io.to("r2").emit("m", "r2 ünïcødé");
  await w.barrier();
  const expected = NAMES.flatMap((n) => Array.from({ length: 20 }, (_, i) => `${n}:${JSON.stringify([i, i % 2 ? `<${i}>` : "text"])}`));
  assert.deepEqual(w.take(), [...expected, ...got("BC", "r2 ünïcødé")].sort());
  // Per client, in order.
  const order: Record<string, number[]> = { A: [], B: [], C: [], D: [] };
  for (const n of NAMES) w.p[n].client.on("seq", (i: number) => order[n].push(i));
  for (let i = 0; i < 50; i++) w.io.emit("seq", i);
  await w.barrier();
  for (const n of NAMES) assert.deepEqual(order[n], Array.from({ length: 50 }, (_, i) => i), n);
  for (const n of NAMES) w.p[n].client.on("q", (ack: (v: string) => void) => ack(n));
  assert.deepEqual([...(await within(w.io.timeout(2000).emitWithAck("q"), T, "acks"))].sort(), [...NAMES]);
});

// ---- serverSideEmit with the in-memory adapter ----

describe("serverSideEmit with the in-memory adapter", () => {
  test("no other server: nothing happens locally; an ack gets (null, []) at once", async (t) => {
    const fx = await startIo();
    t.after(() => fx.close());
    const local: unknown[] = [];
    fx.io.on("hello" as any, (...args: unknown[]) => local.push(args));
    assert.equal(fx.io.serverSideEmit("hello", 1, "two"), true);
    const calls: unknown[][] = [];
    fx.io.serverSideEmit("hello", (...args: unknown[]) => calls.push(args));
    assert.deepEqual(calls, [[null, []]], "called synchronously");
    assert.deepEqual(await within(fx.io.serverSideEmitWithAck("hello"), 1000, "serverSideEmitWithAck"), []);
    assert.deepEqual(await within(fx.io.of("/admin").serverSideEmitWithAck("x"), 1000, "on a namespace"), []);
    await quiet(50);
    assert.deepEqual(local, [], "the emitting server does not receive its own event");
  });

  test("the namespace's reserved names are refused; socket-reserved ones are not", async (t) => {
    const fx = await startIo();
    t.after(() => fx.close());
    for (const name of ["connect", "connection", "new_namespace"]) {
      assert.throws(() => fx.io.serverSideEmit(name as any), { message: `"${name}" is a reserved event name` });
      await assert.rejects(() => fx.io.serverSideEmitWithAck(name as any), { message: `"${name}" is a reserved event name` });
    }
    assert.equal(fx.io.serverSideEmit("disconnect" as any), true);
    assert.equal(fx.io.of("/nsp").serverSideEmit("error" as any), true);
  });
});
