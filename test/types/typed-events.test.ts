/**
 * Type tests: this file must compile. Each `@ts-expect-error` line must NOT compile (tsc
 * fails the build if it does), so a wrong event name, payload or acknowledgement is a
 * compile error as with the official server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectTypeOf } from "expect-type";
import { Server, type Socket, type RemoteSocket, type Namespace } from "../../src/index";

interface ClientToServer {
  chat: (text: string) => void;
  add: (a: number, b: number, ack: (sum: number) => void) => void;
  ping: (ack: () => void) => void;
}

interface ServerToClient {
  news: (headline: string, id: number) => void;
  question: (q: string, ack: (answer: boolean) => void) => void;
  binary: (data: Buffer) => void;
}

interface InterServer {
  hello: (from: string) => void;
  count: (ack: (n: number) => void) => void;
}

interface Data {
  user: string;
  age: number;
}

// Declared but never run: only the compiler looks at this function.
function typeChecks(io: Server<ClientToServer, ServerToClient, InterServer, Data>): void {
  io.on("connection", (socket) => {
    expectTypeOf(socket).toEqualTypeOf<Socket<ClientToServer, ServerToClient, InterServer, Data>>();
    expectTypeOf(socket.data).toEqualTypeOf<Data>();

    socket.on("chat", (text) => expectTypeOf(text).toBeString());
    socket.on("add", (a, b, ack) => {
      expectTypeOf(a).toBeNumber();
      ack(a + b);
      // @ts-expect-error the ack takes a number
      ack("x");
    });
    socket.on("disconnect", (reason) => expectTypeOf(reason).toMatchTypeOf<string>());
    // @ts-expect-error unknown listen event
    socket.on("nope", () => {});
    // @ts-expect-error wrong listener signature
    socket.on("chat", (text: number) => text);

    socket.emit("news", "title", 1);
    // @ts-expect-error missing argument
    socket.emit("news", "title");
    // @ts-expect-error wrong payload type
    socket.emit("news", 1, 1);
    // @ts-expect-error unknown emit event
    socket.emit("unknown");

    socket.emit("question", "ok?", (answer) => expectTypeOf(answer).toBeBoolean());
    socket.timeout(1000).emit("question", "ok?", (err, answer) => {
      expectTypeOf(err).toEqualTypeOf<Error>();
      expectTypeOf(answer).toBeBoolean();
    });
    expectTypeOf(socket.emitWithAck("question", "ok?")).resolves.toBeBoolean();
    expectTypeOf(socket.timeout(10).emitWithAck("question", "ok?")).resolves.toBeBoolean();
    // @ts-expect-error news takes no acknowledgement
    void socket.emitWithAck("news", "t", 1);

    socket.to("room").emit("news", "t", 2);
    socket.broadcast.emit("binary", Buffer.alloc(1));
    // @ts-expect-error wrong payload in a broadcast
    socket.broadcast.emit("binary", "not a buffer");
  });

  io.emit("news", "all", 3);
  io.to("r").except("s").volatile.compress(false).emit("news", "r", 4);
  // @ts-expect-error a broadcast with an acknowledgement needs timeout()
  io.emit("question", "q", () => {});
  io.timeout(500).emit("question", "q", (err, answers) => {
    expectTypeOf(err).toEqualTypeOf<Error>();
    expectTypeOf(answers).toEqualTypeOf<boolean[]>();
  });
  expectTypeOf(io.timeout(500).emitWithAck("question", "q")).resolves.toEqualTypeOf<boolean[]>();

  io.serverSideEmit("hello", "node-1");
  // @ts-expect-error wrong server-side payload
  io.serverSideEmit("hello", 1);
  io.serverSideEmit("count", (err, counts) => {
    expectTypeOf(err).toEqualTypeOf<Error>();
    expectTypeOf(counts).toEqualTypeOf<number[]>();
  });
  expectTypeOf(io.serverSideEmitWithAck("count")).resolves.toEqualTypeOf<number[]>();
  io.on("hello", (from) => expectTypeOf(from).toBeString());

  const admin = io.of("/admin");
  expectTypeOf(admin).toEqualTypeOf<Namespace<ClientToServer, ServerToClient, InterServer, Data>>();
  admin.use((socket, next) => {
    expectTypeOf(socket.data).toEqualTypeOf<Data>();
    next(Object.assign(new Error("no"), { data: { reason: 1 } }));
  });

  void io.fetchSockets().then((sockets) => {
    expectTypeOf(sockets).toEqualTypeOf<RemoteSocket<ServerToClient, Data>[]>();
    sockets[0].emit("news", "x", 1);
    // @ts-expect-error wrong payload to a remote socket
    sockets[0].emit("news", 1, 1);
    expectTypeOf(sockets[0].data).toEqualTypeOf<Data>();
  });
}

test("typed events compile (the checks are done by tsc)", () => {
  assert.equal(typeof typeChecks, "function");
  const io = new Server();
  assert.ok(io.sockets);
});
