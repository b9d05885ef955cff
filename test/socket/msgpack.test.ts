/**
 * The `parser` option with socket.io-msgpack-parser on both ends (official v4 client),
 * over polling and WebSocket: every packet travels as one binary MessagePack message;
 * events with assorted values, acknowledgements both ways, binary payloads, broadcasts
 * (rooms, exclusions, acknowledgements), namespaces with middlewares and refusals, and
 * an invalid MessagePack packet closing the connection as a parse error.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as msgpackParser from "socket.io-msgpack-parser";
import { Socket as EngineClient } from "engine.io-client";
import { Manager, type Socket as ClientSocket } from "socket.io-client";
import type { ExtendedError, Socket } from "../../src/index";
import type { Packet as EnginePacket } from "../../src/engine/index";
import { startIo, type IoFixture, connected, ioForTest } from "../socket-helpers";
import { T, once, within } from "../helpers";

type Transport = "polling" | "websocket";
const BOTH: Transport[] = ["polling", "websocket"];

const server = (t: TestContext) => ioForTest(t, { parser: msgpackParser });

function client(fx: IoFixture, transport: Transport, nsp = "/", auth?: Record<string, unknown>): ClientSocket {
  return fx.client(nsp, { transports: [transport], parser: msgpackParser, auth });
}

async function pair(fx: IoFixture, transport: Transport, nsp = "/"): Promise<{ client: ClientSocket; socket: Socket }> {
  const connection = once<[Socket]>(fx.io.of(nsp), "connection");
  const c = client(fx, transport, nsp);
  await within(connected(c), T, "connect");
  const [socket] = await within(connection, T, "server connection");
  return { client: c, socket };
}

function ask(socket: ClientSocket, ev: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) => socket.emit(ev, ...args, (...answer: unknown[]) => resolve(answer)));
}

function bytes(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`expected binary data, got ${typeof data}`);
}

interface MsgpackPacket {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

/** Decodes one Engine.IO message with the msgpack parser itself. */
function decode(message: unknown): MsgpackPacket {
  const decoder = new msgpackParser.Decoder();
  let packet: MsgpackPacket | undefined;
  decoder.on("decoded", (p: MsgpackPacket) => (packet = p));
  decoder.add(message);
  assert.ok(packet, "the message decodes to a packet");
  return packet;
}

const VALUES = [0, -1, 2 ** 40, 1.5, "two", "ünïcødé ✓", "", null, true, false, [], {}, { deep: { list: [1, [2, [3]]] } }];

for (const transport of BOTH) {
  test(`events with assorted values, acknowledged both ways (${transport})`, async (t) => {
    const fx = await server(t);
    const { client: c, socket } = await pair(fx, transport);
    socket.on("echo", (...args: unknown[]) => {
      const cb = args.pop() as (...a: unknown[]) => void;
      cb(...args);
    });
    assert.deepEqual(await within(ask(c, "echo", ...VALUES), T, "client → server ack"), VALUES);

    c.on("echo", (...args: unknown[]) => {
      const cb = args.pop() as (...a: unknown[]) => void;
      cb(...args);
    });
    const back = await within(
      new Promise<unknown[]>((resolve) => socket.emit("echo", ...VALUES, (...a: unknown[]) => resolve(a))),
      T,
      "server → client ack",
    );
    assert.deepEqual(back, VALUES);
    assert.deepEqual(await within(socket.timeout(T).emitWithAck("echo", "x"), T, "emitWithAck"), "x");
  });

  test(`every packet is one binary MessagePack message (${transport})`, async (t) => {
    const fx = await server(t);
    const { client: c, socket } = await pair(fx, transport);
    const incoming: unknown[] = [];
    socket.conn.on("packet", (p: EnginePacket) => {
      if (p.type === "message") incoming.push(p.data);
    });
    const outgoing: unknown[] = [];
    socket.conn.on("packetCreate", (p: EnginePacket) => {
      if (p.type === "message") outgoing.push(p.data);
    });
    const got = once<[number[], unknown]>(c, "out");
    socket.on("in", (n: number, file: unknown, cb: (ok: boolean) => void) => cb(bytes(file).length === n));
    assert.deepEqual(await within(ask(c, "in", 3, Buffer.from([1, 2, 3])), T, "ack"), [true]);
    socket.emit("out", [1, 2], Buffer.from([9]));
    const [list, file] = await within(got, T, "out");
    assert.deepEqual(list, [1, 2]);
    assert.deepEqual(bytes(file), Buffer.from([9]));

    // One message each way per packet (no separate attachments), each a msgpack map.
    assert.equal(incoming.length, 1);
    assert.equal(outgoing.length, 2, "the ACK and the event");
    for (const m of [...incoming, ...outgoing]) assert.equal(typeof m, "object", "binary, never text");
    const event = decode(incoming[0]);
    assert.equal(event.type, 2);
    assert.equal(event.nsp, "/");
    assert.equal(typeof event.id, "number");
    const [name, n, sent] = event.data as [string, number, unknown];
    assert.deepEqual([name, n, bytes(sent)], ["in", 3, Buffer.from([1, 2, 3])]);
    const ack = decode(outgoing[0]);
    assert.deepEqual([ack.type, ack.nsp, ack.id, ack.data], [3, "/", event.id, [true]]);
    const out = decode(outgoing[1]);
    assert.deepEqual([out.type, out.nsp], [2, "/"]);
    assert.deepEqual((out.data as unknown[])[0], "out");
  });

  test(`broadcasts: to all, to rooms, except the sender, with acknowledgements (${transport})`, async (t) => {
    const fx = await server(t);
    const a = await pair(fx, transport);
    const b = await pair(fx, transport);
    const c = await pair(fx, transport);
    await a.socket.join("ab");
    await b.socket.join("ab");
    const seen = new Map<ClientSocket, string[]>([a, b, c].map((p) => [p.client, []]));
    for (const p of [a, b, c]) p.client.onAny((ev: string) => seen.get(p.client)!.push(ev));

    const everyone = [a, b, c].map((p) => once<[unknown, string]>(p.client, "all"));
    fx.io.emit("all", Buffer.from([1, 2]), "binary broadcast");
    for (const [data, text] of await within(Promise.all(everyone), T, "io.emit")) {
      assert.deepEqual(bytes(data), Buffer.from([1, 2]));
      assert.equal(text, "binary broadcast");
    }

    fx.io.to("ab").emit("room");
    a.socket.broadcast.emit("not-a");
    fx.io.except("ab").emit("only-c");
    const markers = [a, b, c].map((p) => once(p.client, "marker"));
    fx.io.emit("marker");
    await within(Promise.all(markers), T, "markers");
    assert.deepEqual(seen.get(a.client), ["all", "room", "marker"]);
    assert.deepEqual(seen.get(b.client), ["all", "room", "not-a", "marker"]);
    assert.deepEqual(seen.get(c.client), ["all", "not-a", "only-c", "marker"]);

    for (const [p, name] of [
      [a, "a"],
      [b, "b"],
      [c, "c"],
    ] as const) {
      p.client.on("vote", (cb: (v: string) => void) => cb(name));
    }
    const votes = await within(fx.io.timeout(T).emitWithAck("vote"), T, "broadcast acks");
    assert.deepEqual((votes as string[]).sort(), ["a", "b", "c"]);
  });

  test(`namespaces over one connection, middleware refusal with data, unknown namespace (${transport})`, async (t) => {
    const fx = await server(t);
    fx.io.of("/admin").on("connection", (socket) => {
      socket.on("where", (cb: (nsp: string, auth: unknown) => void) => cb(socket.nsp.name, socket.handshake.auth));
    });
    fx.io.of("/locked").use((_s, next) => {
      const err: ExtendedError = new Error("locked");
      err.data = { retry: false, bytes: Buffer.from([5]) };
      next(err);
    });
    const manager = new Manager(fx.url, { transports: [transport], reconnection: false, parser: msgpackParser });
    const sockets = [manager.socket("/"), manager.socket("/admin", { auth: { key: "k" } })];
    t.after(() => {
      for (const s of sockets) s.disconnect();
      manager.engine?.close();
    });
    for (const s of sockets) s.connect();
    await within(Promise.all(sockets.map(connected)), T, "both namespaces");
    assert.equal(fx.io.engine.clientsCount, 1);
    assert.deepEqual(await within(ask(sockets[1], "where"), T, "ack on /admin"), ["/admin", { key: "k" }]);

    const locked = manager.socket("/locked");
    sockets.push(locked);
    const refused = new Promise<Error & { data?: { retry: boolean; bytes: unknown } }>((resolve) => locked.once("connect_error", resolve));
    locked.connect();
    const err = await within(refused, T, "refused");
    assert.equal(err.message, "locked");
    assert.equal(err.data?.retry, false);
    assert.deepEqual(bytes(err.data?.bytes), Buffer.from([5]));

    const unknown = manager.socket("/nope");
    sockets.push(unknown);
    const invalid = new Promise<Error>((resolve) => unknown.once("connect_error", resolve));
    unknown.connect();
    assert.equal((await within(invalid, T, "invalid")).message, "Invalid namespace");

    // Server-side namespace disconnect, also encoded with msgpack.
    const admin = [...fx.io.of("/admin").sockets.values()][0];
    const gone = once<[string]>(sockets[1], "disconnect");
    admin.disconnect();
    assert.equal((await within(gone, T, "disconnect"))[0], "io server disconnect");
    assert.equal(sockets[0].connected, true);
  });

  // Each MessagePack packet is one binary message: their sizes do not add up as the
  // attachments of one packet do, so traffic past maxHttpBufferSize in total is fine.
  test(`binary packets adding up past maxHttpBufferSize (${transport})`, async (t) => {
    const fx = await startIo({ parser: msgpackParser, maxHttpBufferSize: 10_000 });
    t.after(() => fx.close());
    const connection = once<[Socket]>(fx.io, "connection");
    const c = client(fx, transport);
    await within(connected(c), T, "connect");
    const [socket] = await within(connection, T, "server connection");
    let received = 0;
    const reasons: string[] = [];
    socket.on("disconnect", (r) => reasons.push(r));
    const all = new Promise<void>((resolve) =>
      socket.on("m", () => {
        if (++received === 30) resolve();
      }),
    );
    for (let i = 0; i < 30; i++) c.emit("m", "x".repeat(1000));
    await within(all, T, "30 packets of 1 kB");
    assert.deepEqual(reasons, []);
    assert.equal(socket.connected, true);
  });

  // socket.io 4.8 reports "forced close" for this (see disconnect.test.ts).
  test(`an invalid MessagePack packet: "parse error" (${transport})`, async (t) => {
    const fx = await server(t);
    const connection = once<[Socket]>(fx.io, "connection");
    const engine = new EngineClient(fx.url, { path: "/socket.io/", transports: [transport] });
    t.after(() => engine.close());
    await within(once(engine, "open"), T, "engine open");
    // The package's typings say encode() returns one ArrayBuffer; it returns a list of one.
    const encoder = new msgpackParser.Encoder() as unknown as { encode(packet: MsgpackPacket): unknown[] };
    const accepted = once<[unknown]>(engine, "message");
    engine.send(bytes(encoder.encode({ type: 0, nsp: "/" })[0]));
    const [answer] = await within(accepted, T, "CONNECT answer");
    assert.equal(decode(answer).type, 0);
    const [socket] = await within(connection, T, "connection");
    const events: string[] = [];
    socket.on("error", () => events.push("error"));
    socket.on("disconnect", (r) => events.push(r));
    const closed = once(engine, "close");
    // A well-formed MessagePack map, but not a Socket.IO packet (type 9).
    engine.send(bytes(encoder.encode({ type: 9, nsp: "/", data: [] })[0]));
    await within(closed, T, "connection closed");
    assert.deepEqual(events, ["error", "parse error"]);
  });
}
