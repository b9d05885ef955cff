/**
 * Volley's own WebSocket connection (WsConnection) over real loopback sockets: which object
 * serves a session in each configuration, the close handshake from either side, a client
 * that never answers or leaves without a close frame, pings, subprotocols, the `ws`-like API
 * on `conn.transport.socket`, and refused upgrades compared byte for byte with those of
 * `ws` (the same engine given `wsEngine: ws.Server`). Peers: the official engine.io-client,
 * the `ws` client, and raw sockets.
 */
import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { Socket as Client } from "engine.io-client";
import { T, within, type Cleanup, type EngineFixture, withEngine } from "../helpers";
import type { ServerOptions, Socket as EngineSocket } from "../../src/engine/index";
import type { WebSocketTransport } from "../../src/engine/transports/websocket";
import { WsConnection, type WsConnectionSink } from "../../src/engine/websocket/ws-connection";
import type { WebSocketFrameError } from "../../src/engine/websocket/ws-reader";
import { checkUpgradeRequest, switchingProtocolsHead } from "../../src/engine/websocket/ws-handshake";
import { ENGINE_PATH, RawWebSocket, WsPeer, clientFrame, type PeerMessage, closeCode, closeFramePayload, closeReason, headerOf, nextSocket, rawHttp } from "./raw-util";

/** Whole engine.io-client sessions in both connection modes: several T-bounded steps each. */
const TEST = { timeout: 15_000 };
const WS_PATH = `${ENGINE_PATH}?EIO=4&transport=websocket`;

function connectionOf(socket: EngineSocket): WsConnection | WebSocket {
  return (socket.transport as WebSocketTransport).socket;
}

function ownConnection(socket: EngineSocket): WsConnection {
  const conn = connectionOf(socket);
  assert.ok(conn instanceof WsConnection, "served by a WsConnection");
  return conn;
}

/** A raw WebSocket session on the engine: the open packet read, the server side at hand. */
async function rawSession(fx: EngineFixture, defer: (c: Cleanup) => void, extraHeaders = ""): Promise<{ raw: RawWebSocket; socket: EngineSocket }> {
  const serverSide = nextSocket(fx.engine);
  const raw = await RawWebSocket.open(fx.port, WS_PATH, extraHeaders);
  defer(() => raw.destroy());
  assert.equal(raw.status, 101, raw.statusLine);
  const open = await raw.next();
  assert.match(open?.payload.toString() ?? "", /^0\{"sid":/);
  return { raw, socket: await serverSide };
}

/**
 * Resolves once the server's TCP socket has closed. The connection's own "close" listener
 * runs first, so readyState is CLOSED by then; if the event has already been, it is now.
 */
function socketGone(conn: WsConnection): Promise<void> {
  if (conn.readyState === WsConnection.CLOSED) return Promise.resolve();
  return within(new Promise<void>((resolve) => conn._socket.once("close", () => resolve())), T, "server socket close");
}

/** Resolves when the peer half-closes the raw connection (a FIN, not a reset). */
function finFrom(raw: RawWebSocket): Promise<void> {
  return within(new Promise<void>((resolve) => raw.socket.once("end", () => resolve())), T, "server FIN");
}

/** A `ws` client session on the engine, open packet read. */
async function peerSession(fx: EngineFixture, defer: (c: Cleanup) => void, protocols: string[] = []): Promise<{ peer: WsPeer; socket: EngineSocket }> {
  const serverSide = nextSocket(fx.engine);
  const peer = new WsPeer(`ws://127.0.0.1:${fx.port}${WS_PATH}`, {}, protocols);
  defer(() => peer.close());
  const open = await peer.next();
  assert.match(open.data.toString(), /^0\{"sid":/);
  return { peer, socket: await serverSide };
}

function nextMessage(socket: EngineSocket): Promise<unknown> {
  return within(new Promise((resolve) => socket.once("message", resolve)), T, "server message");
}

function clientMessage(client: Client): Promise<unknown> {
  return within(new Promise((resolve) => client.once("message", resolve)), T, "client message");
}

// ---- which object serves a session ----

describe("the WebSocket object behind conn.transport.socket", () => {
  const modes: Array<{ name: string; opts: ServerOptions; own: boolean }> = [
    { name: "by default", opts: {}, own: true },
    { name: "with perMessageDeflate", opts: { perMessageDeflate: true }, own: false },
    { name: "with wsEngine: ws.Server", opts: { wsEngine: WebSocketServer }, own: false },
  ];
  for (const mode of modes) {
    test(`${mode.name}: ${mode.own ? "a WsConnection" : "a ws WebSocket"}, and an engine.io-client session works`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const serverSide = nextSocket(fx.engine);
        const client = new Client(fx.url, { transports: ["websocket"] });
        defer(() => void client.close());
        await within(new Promise<void>((resolve) => client.once("open", () => resolve())), T, "client open");
        const socket = await serverSide;
        const conn = connectionOf(socket);
        if (mode.own) {
          assert.ok(conn instanceof WsConnection);
        } else {
          assert.ok(conn instanceof WebSocket, "a ws WebSocket");
          assert.ok(!(conn instanceof WsConnection));
        }
        assert.equal(conn.readyState, 1);
        const got = nextMessage(socket);
        client.send("hello ✓");
        assert.equal(await got, "hello ✓");
        const gotBinary = nextMessage(socket);
        client.send(new Uint8Array([1, 2, 3]));
        assert.deepEqual(await gotBinary, Buffer.from([1, 2, 3]));
        const back = clientMessage(client);
        socket.send("back");
        assert.equal(await back, "back");
        const backBinary = clientMessage(client);
        socket.send(Buffer.from([250, 0, 7]));
        assert.deepEqual(Buffer.from((await backBinary) as ArrayBuffer), Buffer.from([250, 0, 7]));
        const reason = closeReason(socket);
        client.close();
        assert.equal(await reason, "transport close");
      }));
  }

  test("by default, a polling session upgraded to WebSocket is served by a WsConnection", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const serverSide = nextSocket(fx.engine);
      const client = new Client(fx.url, { transports: ["polling", "websocket"] });
      defer(() => void client.close());
      const socket = await serverSide;
      await within(new Promise((resolve) => socket.once("upgrade", resolve)), T, "upgrade");
      assert.equal(socket.transport.name, "websocket");
      ownConnection(socket);
      const got = nextMessage(socket);
      client.send("after the upgrade");
      assert.equal(await got, "after the upgrade");
      const back = clientMessage(client);
      socket.send("to the client");
      assert.equal(await back, "to the client");
    }));
});

// ---- closing ----

/** The engine's own connection, and `ws` given as wsEngine: the raw-socket cases must not tell them apart. */
const BOTH_MODES: Array<{ name: string; opts: ServerOptions; own: boolean }> = [
  { name: "WsConnection", opts: {}, own: true },
  { name: "wsEngine: ws.Server", opts: { wsEngine: WebSocketServer }, own: false },
];

describe("events on conn.transport.socket", () => {
  for (const mode of BOTH_MODES) {
    test(`${mode.name}: message, ping, pong and close reach listeners with ws's arguments`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const conn = connectionOf(socket) as unknown as import("node:events").EventEmitter;
        const events: unknown[] = [];
        conn.on("message", (data: Buffer, isBinary: boolean) => events.push(["message", [...data], isBinary]));
        conn.on("ping", (payload: Buffer) => events.push(["ping", payload.toString()]));
        conn.on("pong", (payload: Buffer) => events.push(["pong", payload.toString()]));
        const closed = new Promise<[number, string]>((resolve) =>
          conn.on("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])),
        );
        const got = nextMessage(socket);
        raw.send(Buffer.concat([clientFrame(0x1, "4hé"), clientFrame(0x2, Buffer.from([1, 2])), clientFrame(0x9, "p"), clientFrame(0xa, "q")]));
        assert.equal(await got, "hé");
        assert.equal((await raw.next())?.opcode, 0xa, "the ping is answered");
        raw.send(clientFrame(0x8, closeFramePayload(4000, "bye")));
        assert.deepEqual(await within(closed, T, "close event"), [4000, "bye"]);
        assert.deepEqual(events, [
          ["message", [...Buffer.from("4hé")], false],
          ["message", [1, 2], true],
          ["ping", "p"],
          ["pong", "q"],
        ]);
      }));

    test(`${mode.name}: a refused frame reaches an error listener, then close 1006 or the code sent`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const conn = connectionOf(socket) as unknown as import("node:events").EventEmitter;
        const error = new Promise<Error & { code?: string }>((resolve) => conn.on("error", resolve));
        const closed = new Promise<number>((resolve) => conn.on("close", (code: number) => resolve(code)));
        raw.send(clientFrame(0x1, "4x", 0b010));
        const err = await within(error, T, "error event");
        assert.equal(err.code, "WS_ERR_UNEXPECTED_RSV_2_3");
        assert.equal(closeCode(await raw.next()), 1002);
        raw.destroy();
        assert.equal(await within(closed, T, "close event"), 1006, "no close frame came from the client");
      }));
  }
});

describe("close handshake", () => {
  for (const mode of BOTH_MODES) {
    test(`${mode.name}: session close(): a close frame, the client's close frame, then the server's FIN`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const reason = closeReason(socket);
        socket.close();
        const frame = await raw.next();
        assert.equal(frame?.opcode, 0x8);
        assert.equal(frame?.payload.length, 0, "an empty close frame, as ws sends for close()");
        if (mode.own) assert.equal(ownConnection(socket).readyState, WsConnection.CLOSING);
        const fin = finFrom(raw);
        raw.send(clientFrame(0x8, Buffer.alloc(0)));
        await fin;
        await within(raw.closedPromise, T, "connection closed");
        assert.equal(await raw.next(), undefined, "nothing after the close frame");
        assert.equal(await reason, "forced close");
        if (mode.own) {
          const conn = ownConnection(socket);
          await socketGone(conn);
          assert.equal(conn.readyState, WsConnection.CLOSED);
        }
      }));

    test(`${mode.name}: client close 4000 with a reason: the same code and reason come back, then FIN; transport close`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const reason = closeReason(socket);
        const payload = closeFramePayload(4000, "bye ✓");
        const fin = finFrom(raw);
        raw.send(clientFrame(0x8, payload));
        const echo = await raw.next();
        assert.equal(echo?.opcode, 0x8);
        assert.equal(closeCode(echo), 4000);
        assert.deepEqual(echo?.payload, payload, "the same code and reason");
        await fin;
        await within(raw.closedPromise, T, "connection closed");
        assert.equal(await reason, "transport close");
      }));

    test(`${mode.name}: a close frame without a code is answered with an empty one`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const reason = closeReason(socket);
        raw.send(clientFrame(0x8, Buffer.alloc(0)));
        const echo = await raw.next();
        assert.equal(echo?.opcode, 0x8);
        assert.equal(echo?.payload.length, 0);
        assert.equal(await reason, "transport close");
      }));

    test(`${mode.name}: client FIN without a close frame: the server ends too, the session closes`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const reason = closeReason(socket);
        const fin = finFrom(raw);
        raw.socket.end();
        await fin;
        assert.equal(await raw.next(), undefined, "no close frame");
        assert.equal(await reason, "transport close");
        await within(raw.closedPromise, T, "connection closed");
        if (mode.own) {
          const conn = ownConnection(socket);
          await socketGone(conn);
          assert.equal(conn.readyState, WsConnection.CLOSED);
        }
      }));

    test(`${mode.name}: a refused frame: a close frame with 1002, FIN right after it, transport error`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw, socket } = await rawSession(fx, defer);
        const reason = closeReason(socket);
        const fin = finFrom(raw);
        raw.send(clientFrame(0x3, "x"));
        const frame = await raw.next();
        assert.equal(closeCode(frame), 1002);
        // No close frame is awaited from a client that broke the protocol.
        await fin;
        assert.equal(await reason, "transport error");
      }));
  }

  test("session close() with a ws client: it sees 1005 and the connection ends", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      socket.close();
      assert.deepEqual(await peer.waitClosed(), { code: 1005, reason: "" });
      await socketGone(conn);
      assert.equal(conn.readyState, WsConnection.CLOSED);
    }));

  test("client close 4000 with a reason, from the ws client", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const reason = closeReason(socket);
      peer.ws.close(4000, "going away now");
      assert.deepEqual(await peer.waitClosed(), { code: 4000, reason: "going away now" });
      assert.equal(await reason, "transport close");
    }));

  test("a client that never answers the server's close frame: it got the frame, terminate() drops it", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { raw, socket } = await rawSession(fx, defer);
      const conn = ownConnection(socket);
      const reason = closeReason(socket);
      conn.close(1001, "server going");
      const frame = await raw.next();
      assert.equal(frame?.opcode, 0x8);
      assert.deepEqual(frame?.payload, closeFramePayload(1001, "server going"));
      assert.equal(conn.readyState, WsConnection.CLOSING);
      assert.equal(conn._socket.destroyed, false, "still waiting for the client's close frame");
      conn.terminate();
      assert.equal(conn._socket.destroyed, true);
      await within(raw.closedPromise, T, "connection dropped");
      assert.equal(await reason, "transport close");
      await socketGone(conn);
      assert.equal(conn.readyState, WsConnection.CLOSED);
    }));
});

// ---- a WsConnection on its own: the 30 s close timeout, with mocked timers ----

interface BareFixture {
  port: number;
  connections: Promise<WsConnection>;
  sink: WsConnectionSink & { closed: Array<[number, string]>; errors: WebSocketFrameError[]; texts: string[] };
  close(): Promise<void>;
}

/** An HTTP server that does the handshake as the engine does and keeps one WsConnection. */
async function bareServer(maxPayload = 1000): Promise<BareFixture> {
  const http = createServer();
  const sockets = new Set<Duplex>();
  const sink: BareFixture["sink"] = {
    closed: [],
    errors: [],
    texts: [],
    wsText(text) {
      this.texts.push(text);
    },
    wsBinary() {},
    wsError(error) {
      this.errors.push(error);
    },
    wsClosed(code, reason) {
      this.closed.push([code, reason]);
    },
  };
  const connections = new Promise<WsConnection>((resolve) => {
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      sockets.add(socket);
      const handshake = checkUpgradeRequest(req);
      if ("status" in handshake) {
        socket.destroy();
        return;
      }
      socket.write(switchingProtocolsHead(handshake, []));
      const conn = new WsConnection(socket, handshake.protocol, maxPayload, head);
      conn.sink = sink;
      resolve(conn);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    port: (http.address() as AddressInfo).port,
    connections,
    sink,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        http.close(() => resolve());
      }),
  };
}

/**
 * Runs `body` with a bare server and one raw client connected to it; afterwards resets any
 * mocked timers and closes both, whatever happened.
 */
async function withBareConnection(
  t: TestContext,
  maxPayload: number | undefined,
  body: (fx: BareFixture, raw: RawWebSocket, conn: WsConnection) => Promise<void>,
): Promise<void> {
  const fx = await bareServer(maxPayload);
  let raw: RawWebSocket | undefined;
  try {
    raw = await RawWebSocket.open(fx.port, "/");
    const conn = await within(fx.connections, T, "connection");
    await body(fx, raw, conn);
  } finally {
    t.mock.timers.reset();
    raw?.destroy();
    await fx.close();
  }
}

/** With setTimeout mocked from the moment the close timer was set: the socket goes at 30 s, not before. */
function assertDestroyedAt30s(t: TestContext, conn: WsConnection): void {
  t.mock.timers.tick(29_999);
  assert.equal(conn._socket.destroyed, false, "not before 30 s");
  t.mock.timers.tick(1);
  assert.equal(conn._socket.destroyed, true, "destroyed at 30 s");
}

describe("WsConnection close timeout", () => {
  test("30 s after its close frame, a connection whose client never answers is destroyed", TEST, (t: TestContext) =>
    withBareConnection(t, undefined, async (fx, raw, conn) => {
      assert.equal(raw.status, 101);
      // Only the close timer is created while setTimeout is mocked; the waits below need no timer.
      t.mock.timers.enable({ apis: ["setTimeout"] });
      conn.close(1000, "bye");
      const frame = await raw.next();
      assert.deepEqual(frame?.payload, closeFramePayload(1000, "bye"));
      assertDestroyedAt30s(t, conn);
      t.mock.timers.reset();
      await within(raw.closedPromise, T, "connection dropped");
      await socketGone(conn);
      assert.equal(conn.readyState, WsConnection.CLOSED);
      assert.deepEqual(fx.sink.closed, [[1006, ""]], "closed without the client's close frame: 1006");
    }));

  test("a client that half-closes and stops reading is destroyed 30 s after its FIN", TEST, (t: TestContext) =>
    withBareConnection(t, undefined, async (fx, raw, conn) => {
      // More than loopback's socket buffers hold: the server's side cannot finish while the client does not read.
      raw.socket.pause();
      conn.send(Buffer.alloc(32 * 1024 * 1024));
      const ended = new Promise<void>((resolve) => conn._socket.once("end", () => resolve()));
      t.mock.timers.enable({ apis: ["setTimeout"] });
      raw.socket.end();
      await ended;
      assert.equal(conn.readyState, WsConnection.CLOSING);
      assertDestroyedAt30s(t, conn);
      t.mock.timers.reset();
      await socketGone(conn);
      assert.deepEqual(fx.sink.closed, [[1006, ""]]);
    }));

  test("a client answering in time clears the timer: the close completes with its code", TEST, (t: TestContext) =>
    withBareConnection(t, undefined, async (fx, raw, conn) => {
      t.mock.timers.enable({ apis: ["setTimeout"] });
      conn.close(4002);
      assert.equal(closeCode(await raw.next()), 4002);
      const fin = finFrom(raw);
      raw.send(clientFrame(0x8, closeFramePayload(4002, "ok")));
      await fin;
      raw.destroy();
      await socketGone(conn);
      assert.deepEqual(fx.sink.closed, [[4002, "ok"]]);
      // Nothing is left to fire: the timer was cleared when the socket closed.
      t.mock.timers.tick(60_000);
      assert.deepEqual(fx.sink.closed, [[4002, "ok"]]);
    }));

  test("the frames of a bare connection reach its sink; a refusal reaches wsError and closes with its code", TEST, (t: TestContext) =>
    withBareConnection(t, 10, async (fx, raw, conn) => {
      raw.send(Buffer.concat([clientFrame(0x1, "one"), clientFrame(0x1, "two")]));
      raw.send(clientFrame(0x2, Buffer.alloc(11)));
      assert.equal(closeCode(await raw.next()), 1009);
      assert.deepEqual(fx.sink.texts, ["one", "two"]);
      assert.equal(fx.sink.errors.length, 1);
      assert.equal(fx.sink.errors[0].code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
      assert.equal(fx.sink.errors[0].closeCode, 1009);
      assert.equal(conn.readyState, WsConnection.CLOSING);
    }));
});

// ---- pings and subprotocols ----

describe("pings and subprotocols", () => {
  for (const mode of BOTH_MODES) {
    test(`${mode.name}: a ping from the client gets a pong with the same payload`, TEST, () =>
      withEngine(mode.opts, async (fx, defer) => {
        const { raw } = await rawSession(fx, defer);
        for (const payload of [Buffer.from("are you there? ✓"), Buffer.alloc(0), Buffer.alloc(125, 0xee)]) {
          raw.send(clientFrame(0x9, payload));
          const pong = await raw.next();
          assert.equal(pong?.opcode, 0xa);
          assert.deepEqual(pong?.payload, payload);
        }
        // A pong from the client is not answered, and the session goes on.
        raw.send(clientFrame(0xa, "unsolicited"));
        raw.send(clientFrame(0x9, "after"));
        const next = await raw.next();
        assert.equal(next?.opcode, 0xa);
        assert.equal(next?.payload.toString(), "after");
      }));
  }

  test(
    "control frames with an extended length field get the answer ws gives",
    TEST,
    async () => {
      // A 2-byte ping with its length in the 16-bit field, and a ping declaring 2^60 bytes.
      const mask = [0, 0, 0, 0];
      const frames = {
        short16: Buffer.from([0x89, 0x80 | 126, 0x00, 0x02, ...mask, 0x68, 0x69]),
        huge64: Buffer.from([0x89, 0x80 | 127, 0x10, 0, 0, 0, 0, 0, 0, 0, ...mask]),
      };
      const answers: Record<string, string[]> = {};
      for (const mode of BOTH_MODES) {
        await withEngine(mode.opts, async (fx, defer) => {
          for (const [name, bytes] of Object.entries(frames)) {
            const { raw } = await rawSession(fx, defer);
            raw.send(bytes);
            const f = await raw.next();
            (answers[name] ??= []).push(f?.opcode === 0x8 ? `close ${closeCode(f)}` : `opcode ${f?.opcode}`);
          }
        });
      }
      assert.deepEqual(answers, { short16: ["close 1002", "close 1002"], huge64: ["close 1002", "close 1002"] });
    },
  );

  test("a ping from the ws client gets its pong", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer } = await peerSession(fx, defer);
      const pong = within(new Promise<Buffer>((resolve) => peer.ws.once("pong", resolve)), T, "pong");
      peer.ws.ping("xyz");
      assert.equal((await pong).toString(), "xyz");
    }));

  for (const [name, opts] of [
    ["by default", {}],
    ["with wsEngine: ws.Server", { wsEngine: WebSocketServer }],
  ] as Array<[string, ServerOptions]>) {
    test(`${name}: an offer of "a, b" gets "a" in the 101; no offer, no header`, TEST, () =>
      withEngine(opts, async (fx, defer) => {
        const offered = await rawSession(fx, defer, "Sec-WebSocket-Protocol: a, b\r\n");
        assert.equal(headerOf(offered.raw.head, "sec-websocket-protocol"), "a");
        assert.equal(connectionOf(offered.socket).protocol, "a");
        const none = await rawSession(fx, defer);
        assert.equal(headerOf(none.raw.head, "sec-websocket-protocol"), undefined);
        assert.equal(connectionOf(none.socket).protocol, "");
        // Node strips the whitespace around a header value before anyone parses it.
        const padded = await rawSession(fx, defer, "Sec-WebSocket-Protocol: \t chat ,superchat \t\r\n");
        assert.equal(headerOf(padded.raw.head, "sec-websocket-protocol"), "chat");
        const { peer } = await peerSession(fx, defer, ["x", "y"]);
        assert.equal(peer.ws.protocol, "x");
      }));
  }
});

// ---- the ws-like API on the server object ----

describe("WsConnection API", () => {
  test("properties ws users read", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      assert.deepEqual([WsConnection.CONNECTING, WsConnection.OPEN, WsConnection.CLOSING, WsConnection.CLOSED], [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]);
      assert.equal(conn.readyState, WebSocket.OPEN);
      assert.equal(conn.protocol, "");
      assert.equal(conn.extensions, "");
      assert.equal(conn.binaryType, "nodebuffer");
      assert.equal(typeof conn.bufferedAmount, "number");
      assert.equal(conn._socket, (socket.request as IncomingMessage).socket, "the request's TCP socket");
    }));

  test("send: strings as text, every binary form as binary, callbacks without error", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      const backing = new Uint8Array([9, 1, 2, 3, 9]).buffer;
      const sent: Array<{ data: string | Buffer | ArrayBuffer | ArrayBufferView; options?: { binary?: boolean }; expect: PeerMessage }> = [
        { data: "text ✓", expect: { data: Buffer.from("text ✓"), isBinary: false } },
        { data: Buffer.from([0, 255]), expect: { data: Buffer.from([0, 255]), isBinary: true } },
        { data: new Uint8Array(backing, 1, 3), expect: { data: Buffer.from([1, 2, 3]), isBinary: true } },
        { data: backing, expect: { data: Buffer.from([9, 1, 2, 3, 9]), isBinary: true } },
        { data: "as binary", options: { binary: true }, expect: { data: Buffer.from("as binary"), isBinary: true } },
        { data: Buffer.from("as text"), options: { binary: false }, expect: { data: Buffer.from("as text"), isBinary: false } },
        { data: Buffer.alloc(70_000, 0x5a), expect: { data: Buffer.alloc(70_000, 0x5a), isBinary: true } },
        { data: "", expect: { data: Buffer.alloc(0), isBinary: false } },
      ];
      const callbacks: Array<Promise<Error | null | undefined>> = [];
      for (const s of sent) {
        callbacks.push(
          new Promise((resolve) => {
            if (s.options) conn.send(s.data, s.options, resolve);
            else conn.send(s.data, resolve);
          }),
        );
      }
      for (const s of sent) assert.deepEqual(await peer.next(), s.expect);
      for (const err of await within(Promise.all(callbacks), T, "send callbacks")) assert.equal(err ?? undefined, undefined);
    }));

  test("ping and pong: the ws client gets the payload; more than 125 bytes throws RangeError", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      const ping = within(new Promise<Buffer>((resolve) => peer.ws.once("ping", resolve)), T, "ping");
      const pong = within(new Promise<Buffer>((resolve) => peer.ws.once("pong", resolve)), T, "pong");
      const written = new Promise<Error | null | undefined>((resolve) => conn.ping("server ping", false, resolve));
      conn.pong(Buffer.from([1, 2]));
      assert.equal((await ping).toString(), "server ping");
      assert.deepEqual(await pong, Buffer.from([1, 2]));
      assert.equal((await written) ?? undefined, undefined);
      assert.throws(() => conn.ping(Buffer.alloc(126)), RangeError);
      assert.throws(() => conn.pong("x".repeat(126)), RangeError);
      // An empty ping is fine.
      const empty = within(new Promise<Buffer>((resolve) => peer.ws.once("ping", resolve)), T, "empty ping");
      conn.ping();
      assert.equal((await empty).length, 0);
    }));

  test("close with an invalid code throws TypeError (as ws), a long reason RangeError; nothing is sent", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      // (ws would take 1000.5, as its range check lets it through; it is left out here.)
      for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, Number.NaN]) {
        assert.throws(() => conn.close(code), { name: "TypeError", message: "First argument must be a valid error code number" }, String(code));
      }
      assert.throws(() => conn.close(1000, "x".repeat(124)), { name: "RangeError", message: "The message must not be greater than 123 bytes" });
      // ws's WebSocket would be left CLOSING by the throw (it changes state first); here the
      // connection is untouched and a message still goes through.
      assert.equal(conn.readyState, WebSocket.OPEN);
      conn.send("still open");
      assert.deepEqual(await peer.next(), { data: Buffer.from("still open"), isBinary: false });
      // ws's own WebSocket throws the same for these.
      assert.throws(() => peer.ws.close(1005), { name: "TypeError", message: "First argument must be a valid error code number" });
    }));

  test("close(4001, reason): the ws client sees them; send afterwards calls back with an error", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      const reason = closeReason(socket);
      conn.close(4001, "server says bye");
      assert.equal(conn.readyState, WebSocket.CLOSING);
      const whileClosing = await within(new Promise<Error | null | undefined>((resolve) => conn.send("late", resolve)), T, "send callback");
      assert.ok(whileClosing instanceof Error);
      assert.equal(whileClosing.message, "WebSocket is not open: readyState 2 (CLOSING)");
      assert.deepEqual(await peer.waitClosed(), { code: 4001, reason: "server says bye" });
      assert.equal(await reason, "transport close");
      await socketGone(conn);
      assert.equal(conn.readyState, WebSocket.CLOSED);
      const afterClose = await within(new Promise<Error | null | undefined>((resolve) => conn.ping("p", false, resolve)), T, "ping callback");
      assert.equal(afterClose?.message, "WebSocket is not open: readyState 3 (CLOSED)");
      // Sending without a callback after the close is silent; close and terminate do nothing.
      conn.send("ignored");
      conn.close(1000);
      conn.terminate();
      assert.equal(conn.readyState, WebSocket.CLOSED);
    }));

  test("terminate(): no close frame, the ws client sees 1006, the session closes", TEST, () =>
    withEngine({}, async (fx, defer) => {
      const { peer, socket } = await peerSession(fx, defer);
      const conn = ownConnection(socket);
      const reason = closeReason(socket);
      conn.terminate();
      assert.deepEqual(await peer.waitClosed(), { code: 1006, reason: "" });
      assert.equal(await reason, "transport close");
    }));
});

// ---- refused upgrades ----

/** Sends the same raw upgrade request to an engine and collects the whole answer. */
async function answerTo(opts: ServerOptions, request: (port: number) => string, beforeRequest?: (fx: EngineFixture) => void): Promise<Buffer> {
  let answer = Buffer.alloc(0);
  await withEngine(opts, async (fx) => {
    beforeRequest?.(fx);
    const res = await rawHttp(fx.port, request(fx.port));
    answer = Buffer.concat([Buffer.from(`${res.statusLine}\r\n${res.head}\r\n\r\n`, "latin1"), res.body]);
  });
  return answer;
}

function upgradeRequest(headers: Record<string, string>, method = "GET"): (port: number) => string {
  return (port) => {
    const all: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    };
    const lines = Object.entries(all)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    return `${method} ${WS_PATH} HTTP/1.1\r\n${lines}\r\n`;
  };
}

describe("refused upgrades", () => {
  test("after engine.close(), an upgrade is refused with 503, byte for byte as ws refuses it", TEST, async () => {
    const closeFirst = (fx: EngineFixture) => void fx.engine.close();
    const ours = await answerTo({}, upgradeRequest({}), closeFirst);
    assert.equal(
      ours.toString("latin1"),
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\nService Unavailable",
    );
    const theirs = await answerTo({ wsEngine: WebSocketServer }, upgradeRequest({}), closeFirst);
    assert.equal(ours.toString("latin1"), theirs.toString("latin1"));
  });

  const cases: Array<{ name: string; headers: Record<string, string>; method?: string; status: number }> = [
    // The engine refuses a method other than GET itself (400, JSON), before ws's checks.
    { name: "POST", headers: {}, method: "POST", status: 400 },
    { name: "Upgrade: h2c", headers: { Upgrade: "h2c" }, status: 400 },
    { name: "no key", headers: { "Sec-WebSocket-Key": "" }, status: 400 },
    { name: "a malformed key", headers: { "Sec-WebSocket-Key": "not a key" }, status: 400 },
    { name: "a protocol given twice", headers: { "Sec-WebSocket-Protocol": "a, a" }, status: 400 },
    { name: "an empty protocol in the list", headers: { "Sec-WebSocket-Protocol": "a,,b" }, status: 400 },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.status}, byte for byte as ws answers`, TEST, async () => {
      const ours = await answerTo({}, upgradeRequest(c.headers, c.method));
      const theirs = await answerTo({ wsEngine: WebSocketServer }, upgradeRequest(c.headers, c.method));
      assert.match(ours.toString("latin1"), new RegExp(`^HTTP/1\\.1 ${c.status} `));
      assert.equal(ours.toString("latin1"), theirs.toString("latin1"));
    });
  }

  test("an unsupported version: 400 with Sec-WebSocket-Version: 13, 8, byte for byte as ws answers", TEST, async () => {
    const request = upgradeRequest({ "Sec-WebSocket-Version": "12" });
    const theirs = await answerTo({ wsEngine: WebSocketServer }, request);
    assert.match(theirs.toString("latin1"), /\r\nSec-WebSocket-Version: 13, 8\r\n/);
    const ours = await answerTo({}, request);
    assert.equal(ours.toString("latin1"), theirs.toString("latin1"));
  });

  test("an accepted upgrade: the 101 head as ws writes it, up to the engine's own headers", TEST, async () => {
    const heads: string[] = [];
    for (const opts of [{}, { wsEngine: WebSocketServer }] as ServerOptions[]) {
      await withEngine(opts, async (fx, defer) => {
        const { raw } = await rawSession(fx, defer, "Sec-WebSocket-Protocol: chat\r\n");
        // The key is random per request, and so is its accept value.
        heads.push(`${raw.statusLine}\r\n${raw.head}`.replace(/(Sec-WebSocket-Accept: )[^\r]+/, "$1<accept>"));
      });
    }
    assert.equal(heads[0], heads[1]);
    assert.match(heads[0], /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: [^\r]+\r\nSec-WebSocket-Protocol: chat/);
  });
});

