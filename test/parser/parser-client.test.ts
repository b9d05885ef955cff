/**
 * The codec against a real socket.io-client over loopback: our engine carries the
 * messages, and only our Decoder / Encoder speak Socket.IO to the client.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import type { Socket as EngineSocket } from "../../src/engine/index";
import { Decoder, Encoder, PacketType, ParserError, type Packet } from "../../src/parser/index";
import { T, startEngine, once, within } from "../helpers";

/** A minimal Socket.IO peer: accepts "/" and answers "upload" with the bytes reversed. */
function serve(socket: EngineSocket, errors: unknown[]): void {
  const decoder = new Decoder();
  const encoder = new Encoder();
  const send = (packet: Packet): void => {
    for (const chunk of encoder.encode(packet)) socket.send(chunk);
  };
  decoder.on("decoded", (packet) => {
    if (packet.type === PacketType.CONNECT) {
      send({ type: PacketType.CONNECT, nsp: "/", data: { sid: "parser-test" } });
      send({ type: PacketType.EVENT, nsp: "/", data: ["welcome", { bytes: new Uint16Array([1, 2]) }, new ArrayBuffer(3)] });
      return;
    }
    const [name, file, meta] = packet.data as [string, Buffer, { parts: Buffer[] }];
    if (packet.type === PacketType.EVENT && name === "upload" && packet.id !== undefined) {
      send({
        type: PacketType.ACK,
        nsp: "/",
        id: packet.id,
        data: [Buffer.from(file).reverse(), { parts: meta.parts.map((p) => new Uint8Array(p)) }, file.length],
      });
    }
  });
  socket.on("message", (data: string | Buffer) => {
    try {
      decoder.add(data);
    } catch (err) {
      errors.push(err);
      socket.close();
    }
  });
  socket.on("close", () => decoder.destroy());
}

for (const transports of [["websocket"], ["polling"]] as const) {
  test(`socket.io-client exchanges binary events and acks with our codec (${transports[0]})`, { timeout: 10_000 }, async (t) => {
    const fx = await startEngine();
    const errors: unknown[] = [];
    fx.engine.on("connection", (socket: EngineSocket) => serve(socket, errors));
    const client = io(fx.url, { path: "/engine.io", transports: [...transports], reconnection: false });
    t.after(async () => {
      client.close();
      await fx.close();
    });
    const welcome = once<[{ bytes: Buffer }, Buffer]>(client, "welcome");
    await within(once(client, "connect"), T, "connect");
    assert.equal(client.id, "parser-test");
    const [meta, empty] = await within(welcome, T, "welcome event");
    assert.deepEqual(Buffer.from(meta.bytes), Buffer.from(new Uint16Array([1, 2]).buffer));
    assert.equal(Buffer.from(empty).length, 3);

    const file = Buffer.from([1, 2, 3, 4]);
    const parts = [Buffer.from("a"), Buffer.from("bc")];
    const reply = await within(
      new Promise<unknown[]>((resolve) => client.emit("upload", file, { parts }, (...args: unknown[]) => resolve(args))),
      T,
      "ack",
    );
    assert.deepEqual(Buffer.from(reply[0] as Uint8Array), Buffer.from([4, 3, 2, 1]));
    const echoed = (reply[1] as { parts: Uint8Array[] }).parts.map((p) => Buffer.from(p).toString());
    assert.deepEqual(echoed, ["a", "bc"]);
    assert.equal(reply[2], 4);
    assert.deepEqual(errors, []);
  });
}

test("a client message the decoder refuses is a ParserError", { timeout: 10_000 }, async (t) => {
  const fx = await startEngine();
  const errors: unknown[] = [];
  fx.engine.on("connection", (socket: EngineSocket) => serve(socket, errors));
  const client = io(fx.url, { path: "/engine.io", transports: ["websocket"], reconnection: false });
  t.after(async () => {
    client.close();
    await fx.close();
  });
  await within(once(client, "connect"), T, "connect");
  const closed = once(client, "disconnect");
  // Bypass the client's encoder: a binary header whose placeholder points nowhere.
  client.io.engine.send('51-["e",{"_placeholder":true,"num":"splice"}]');
  const [reason] = await within(closed, T, "disconnect");
  assert.equal(reason, "transport close");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ParserError);
  assert.match((errors[0] as Error).message, /invalid binary placeholder/);
});
