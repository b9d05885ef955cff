/**
 * Shared pieces of the advisory regression tests: a watch on the process for anything
 * that escaped (uncaught exception, unhandled rejection, unhandled 'error' event, which
 * Node turns into an uncaught exception), raw Engine.IO / Socket.IO peers on the
 * Socket.IO path, hand-built WebSocket frames, and the final check that the server
 * still serves a real socket.io-client.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type Socket as NetSocket } from "node:net";
import debugModule from "debug";
import type { DisconnectReason, Socket } from "../../src/index";
import { IO_PATH, ioRequest, type IoFixture } from "../socket-helpers";
import { T, once, within } from "../helpers";
import { RawWebSocket } from "../engine/raw-util";

/** The masked-frame builder lives with the other raw peers; re-exported for these tests. */
export { frame, type FrameSpec } from "../engine/raw-util";

/** The shared wait bound, re-exported for the tests of this directory. */
export { T };
/** Raw polling on the Socket.IO path lives with the Socket.IO fixtures; re-exported for these tests. */
export { IO_PATH, ioRequest, pollingGet, pollingPost, pollingSession } from "../socket-helpers";

export interface ProcessWatch {
  /** Everything that escaped since `watchProcess()`. */
  readonly problems: unknown[];
  stop(): void;
}

/** Records uncaught exceptions, unhandled rejections and MaxListeners warnings (listener leaks). */
export function watchProcess(): ProcessWatch {
  const problems: unknown[] = [];
  const onProblem = (err: unknown) => problems.push(err);
  const onWarning = (w: Error) => {
    if (w.name === "MaxListenersExceededWarning") problems.push(w);
  };
  process.on("uncaughtException", onProblem);
  process.on("unhandledRejection", onProblem);
  process.on("warning", onWarning);
  return {
    problems,
    stop() {
      process.off("uncaughtException", onProblem);
      process.off("unhandledRejection", onProblem);
      process.off("warning", onWarning);
    },
  };
}

/** Starts the process watch, then the server (so that the watch sees its whole life). */
export async function watched(start: () => Promise<IoFixture>): Promise<{ fx: IoFixture; watch: ProcessWatch }> {
  const watch = watchProcess();
  return { fx: await start(), watch };
}

/** Closes a `watched()` server, then stops the watch. */
export async function unwatch(fx: IoFixture, watch: ProcessWatch): Promise<void> {
  await fx.close();
  watch.stop();
}

/** A real socket.io-client connects, and an acknowledged round trip with binary works. */
export async function assertServes(fx: IoFixture, transports: Array<"polling" | "websocket"> = ["polling", "websocket"]): Promise<void> {
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "server connection");
  const client = fx.client("/", { transports });
  try {
    const [socket] = await connection;
    socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    await within(once(client, "connect"), T, "client connect");
    const value = { text: "still serving", bytes: Buffer.from([1, 2, 3]) };
    assert.deepEqual(await within(client.emitWithAck("echo", value), T, "echo"), value);
  } finally {
    client.disconnect();
  }
}

// ---- polling on the Socket.IO path ----

/** A revision 3 polling session (v2 clients) on "/"; resolves with its sid and server socket. */
export async function eio3Session(fx: IoFixture): Promise<{ sid: string; socket: Socket }> {
  const connection = within(once<[Socket]>(fx.io, "connection"), T, "connection");
  const hs = await ioRequest(fx, "EIO=3&transport=polling");
  const open = /^\d+:0(\{.*?\})/.exec(hs.text)?.[1];
  assert.ok(open, hs.text);
  const sid = (JSON.parse(open) as { sid: string }).sid;
  const [socket] = await connection;
  return { sid, socket };
}

// ---- WebSocket on the Socket.IO path ----

/** A raw WebSocket Engine.IO session (open packet read); with `join`, also joined to "/". */
export async function wsSession(fx: IoFixture, join = false): Promise<{ ws: RawWebSocket; sid: string }> {
  const ws = await RawWebSocket.open(fx.port, `${IO_PATH}?EIO=4&transport=websocket`);
  assert.equal(ws.status, 101, ws.statusLine);
  const open = await ws.next();
  assert.equal(open?.payload.toString()[0], "0");
  const sid = (JSON.parse(open!.payload.toString().slice(1)) as { sid: string }).sid;
  if (join) {
    ws.sendText("40");
    const reply = await ws.next();
    assert.match(reply?.payload.toString() ?? "", /^40\{"sid":/);
  }
  return { ws, sid };
}

export interface Joined {
  ws: RawWebSocket;
  socket: Socket;
  /** The server socket's disconnect reason, once it comes. */
  reason: Promise<DisconnectReason>;
}

/** A raw WebSocket joined to `nsp`, with its server-side socket. */
export async function joinedWebSocket(fx: IoFixture, nsp = "/"): Promise<Joined> {
  const connection = within(once<[Socket]>(fx.io.of(nsp), "connection"), T, "server connection");
  const { ws } = await wsSession(fx);
  const prefix = nsp === "/" ? "" : `${nsp},`;
  ws.sendText(`40${prefix}`);
  const reply = await ws.next();
  assert.ok(reply?.payload.toString().startsWith(`40${prefix}{"sid":`), reply?.payload.toString());
  const [socket] = await connection;
  const reason = new Promise<DisconnectReason>((resolve) => socket.once("disconnect", (r: DisconnectReason) => resolve(r)));
  return { ws, socket, reason };
}

/**
 * Turns on every `volley:*` debug line (written nowhere), so that the tests also prove
 * that formatting peer-supplied values for them never throws. Returns the undo.
 */
export function debugOn(): () => void {
  const previous = debugModule.disable();
  const previousLog = debugModule.log;
  debugModule.log = () => {};
  debugModule.enable("volley:*");
  return () => {
    debugModule.disable();
    debugModule.log = previousLog;
    if (previous) debugModule.enable(previous);
  };
}

// ---- raw TCP ----

/**
 * Opens a TCP connection, writes `bytes`, and resets it (RST, not FIN) right after: the
 * server then writes its answer to a connection that is gone.
 */
export function writeAndReset(port: number, bytes: string | Buffer, afterMs = 0): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const socket: NetSocket = connect(port, "127.0.0.1", () => {
        socket.write(bytes);
        const reset = () => socket.resetAndDestroy();
        if (afterMs > 0) setTimeout(reset, afterMs);
        else setImmediate(reset);
      });
      socket.on("error", () => {});
      socket.once("close", () => resolve());
    }),
    T,
    "write and reset",
  );
}

/** An upgrade request head for the Socket.IO path. */
export function upgradeRequest(query: string, extraHeaders = ""): string {
  return (
    `GET ${IO_PATH}?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`
  );
}
