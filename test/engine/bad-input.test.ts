/**
 * A table of bad input. Each case must end in a clean refusal (documented status and
 * code) or a clean close of the offending session (documented reason); afterwards the
 * same servers still serve a fresh engine.io-client, and nothing escaped as an
 * uncaughtException or unhandledRejection.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type OutgoingHttpHeaders } from "node:http";
import { Socket as Client } from "engine.io-client";
import { T, startEngine, once, within, type EngineFixture, quiet } from "../helpers";
import type { ConnectionError, Socket as EngineSocket } from "../../src/engine/index";
import {
  ENGINE_PATH,
  RawWebSocket,
  clientFrame,
  closeCode,
  handshake,
  nextSocket,
  poll,
  rawHttp,
  request,
  requestArrived,
  type Frame,
} from "./raw-util";

const MAX = 1000;

/** What a case may need first: nothing, a polling session (revision 4 or 3), a WebSocket session. */
type Setup = "none" | "polling4" | "polling3" | "ws4";

interface Expect {
  status?: number;
  /** Exact body; a `{code, message}` object means the JSON error body. */
  body?: string | { code: number; message: string };
  /** Code of the one `connection_error` the case must cause; null: none at all. */
  connectionError?: number | null;
  /** The session's close reason; null: it must stay open. */
  close?: string | null;
  /** WebSocket cases: the status code in the server's close frame (null: a close frame without one). */
  wsClose?: number | null;
  /** Body of a GET left pending before the case ran. */
  pendingBody?: string;
}

interface HttpCase {
  name: string;
  kind: "http";
  setup: Setup;
  method?: string;
  /** Query string; `{sid}` becomes the session id. */
  query: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  chunks?: string[];
  /** Leave a GET waiting on the session before sending the case. */
  pendingPoll?: boolean;
  expect: Expect;
}

interface RawCase {
  name: string;
  kind: "raw";
  /** `lenient`: the HTTP server uses insecureHTTPParser, so more bad bytes reach the engine. */
  server?: "strict" | "lenient";
  setup: Setup;
  /** The whole request; `{sid}` becomes the session id. */
  bytes: string;
  expect: Expect;
}

interface FrameCase {
  name: string;
  kind: "frames";
  setup: "ws4";
  frames: Buffer[];
  expect: Expect;
}

type Case = HttpCase | RawCase | FrameCase;

const BAD = (code: number) => ({
  code,
  message: ["Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request", "Forbidden", "Unsupported protocol version"][code],
});
const POLL = "EIO=4&transport=polling";
const SID4 = `${POLL}&sid={sid}`;
const SID3 = "EIO=3&transport=polling&sid={sid}";
const OK_PARSE_ERROR: Expect = { status: 200, body: "ok", close: "parse error", connectionError: null };
const OCTET = { "Content-Type": "application/octet-stream" };

const upgradeBytes = (query: string, extra = "") =>
  `GET ${ENGINE_PATH}?${query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

const cases: Case[] = [
  // ---- malformed revision 4 payloads (POST on an open session) ----
  { name: "payload of separators only", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "\x1e\x1e", expect: OK_PARSE_ERROR },
  { name: "empty body", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "", expect: OK_PARSE_ERROR },
  { name: "unknown packet type 9", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "9abc", expect: OK_PARSE_ERROR },
  { name: "unknown packet type 7", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "7", expect: OK_PARSE_ERROR },
  { name: "non-digit packet type", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "xhello", expect: OK_PARSE_ERROR },
  { name: "bad base64 b!!!", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "b!!!", expect: OK_PARSE_ERROR },
  { name: "base64 of impossible length", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "bAAAAA", expect: OK_PARSE_ERROR },
  { name: "good packet then a bad one", kind: "http", setup: "polling4", method: "POST", query: SID4, body: "4ok\x1e9bad", expect: OK_PARSE_ERROR },
  {
    name: "open, upgrade and noop packets from a client are ignored",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: SID4,
    body: "0\x1e5\x1e6",
    expect: { status: 200, body: "ok", close: null, connectionError: null },
  },
  {
    name: "binary body from a revision 4 client (application/octet-stream)",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: SID4,
    headers: OCTET,
    body: Buffer.from([4, 1, 2, 3]),
    expect: { status: 400, body: BAD(3), close: "transport error", connectionError: null },
  },
  {
    name: "ping 2 from a revision 4 client (polling)",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: SID4,
    body: "2",
    expect: { status: 200, body: "ok", close: "transport error", connectionError: null },
  },

  // ---- malformed revision 3 payloads ----
  { name: "v3 length beyond the body 5:abc", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "5:abc", expect: OK_PARSE_ERROR },
  { name: "v3 non-digit length abc:4x", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "abc:4x", expect: OK_PARSE_ERROR },
  { name: "v3 huge length prefix", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "99999999999999999999:4x", expect: OK_PARSE_ERROR },
  { name: "v3 ten-digit length beyond the body", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "9999999999:4x", expect: OK_PARSE_ERROR },
  { name: "v3 missing colon", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "4", expect: OK_PARSE_ERROR },
  { name: "v3 unknown packet type inside a record", kind: "http", setup: "polling3", method: "POST", query: SID3, body: "2:9x", expect: OK_PARSE_ERROR },
  {
    name: "v3 binary payload with a bad record marker",
    kind: "http",
    setup: "polling3",
    method: "POST",
    query: SID3,
    headers: OCTET,
    body: Buffer.from([2, 1, 0xff, 0x34]),
    expect: OK_PARSE_ERROR,
  },
  {
    name: "v3 binary payload truncated",
    kind: "http",
    setup: "polling3",
    method: "POST",
    query: SID3,
    headers: OCTET,
    body: Buffer.from([0, 9, 9, 0xff, 0x34]),
    expect: OK_PARSE_ERROR,
  },
  {
    name: "v3 binary payload with a non-digit length byte",
    kind: "http",
    setup: "polling3",
    method: "POST",
    query: SID3,
    headers: OCTET,
    body: Buffer.from([0, 12, 0xff, 0x34]),
    expect: OK_PARSE_ERROR,
  },

  // ---- limits ----
  {
    name: "body above maxHttpBufferSize (Content-Length)",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: SID4,
    body: "4" + "a".repeat(MAX * 2),
    // engine.io refuses the body and keeps the session (its client gives it up).
    expect: { status: 413, close: null, connectionError: null },
  },
  {
    name: "body above maxHttpBufferSize (chunked)",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: SID4,
    chunks: ["4" + "a".repeat(MAX / 2), "b".repeat(MAX / 2), "c".repeat(MAX / 2)],
    expect: { status: 413, close: null, connectionError: null },
  },
  {
    name: "concurrent polls",
    kind: "http",
    setup: "polling4",
    query: SID4,
    pendingPoll: true,
    expect: { status: 400, body: BAD(3), close: "transport error", connectionError: null, pendingBody: "1" },
  },

  // ---- query values used as keys ----
  { name: "transport=__proto__", kind: "http", setup: "none", query: "EIO=4&transport=__proto__", expect: { status: 400, body: BAD(0), connectionError: 0 } },
  { name: "transport=constructor", kind: "http", setup: "none", query: "EIO=4&transport=constructor", expect: { status: 400, body: BAD(0), connectionError: 0 } },
  { name: "transport=toString", kind: "http", setup: "none", query: "EIO=4&transport=toString", expect: { status: 400, body: BAD(0), connectionError: 0 } },
  { name: "sid=__proto__", kind: "http", setup: "none", query: `${POLL}&sid=__proto__`, expect: { status: 400, body: BAD(1), connectionError: 1 } },
  { name: "sid=constructor", kind: "http", setup: "none", query: `${POLL}&sid=constructor`, expect: { status: 400, body: BAD(1), connectionError: 1 } },
  { name: "sid=toString", kind: "http", setup: "none", query: `${POLL}&sid=toString`, expect: { status: 400, body: BAD(1), connectionError: 1 } },
  { name: "sid=hasOwnProperty", kind: "http", setup: "none", query: `${POLL}&sid=hasOwnProperty`, expect: { status: 400, body: BAD(1), connectionError: 1 } },
  // engine.io takes any EIO but 4 for revision 3 (these servers allow it).
  { name: "EIO=__proto__", kind: "http", setup: "none", query: "EIO=__proto__&transport=polling", expect: { status: 200, connectionError: null } },
  { name: "EIO=constructor", kind: "http", setup: "none", query: "EIO=constructor&transport=polling", expect: { status: 200, connectionError: null } },
  {
    name: "a __proto__ query key is only data: the handshake goes through",
    kind: "http",
    setup: "none",
    query: `__proto__=x&constructor=y&${POLL}`,
    expect: { status: 200, connectionError: null },
  },
  {
    name: "repeated query keys: the last value counts (transport)",
    kind: "http",
    setup: "none",
    query: "EIO=4&transport=websocket&transport=polling",
    expect: { status: 200, connectionError: null },
  },
  {
    name: "repeated query keys: the last value counts (EIO)",
    kind: "http",
    setup: "none",
    query: "EIO=3&EIO=4&transport=polling",
    expect: { status: 200, connectionError: null },
  },
  { name: "a long sid", kind: "http", setup: "none", query: `${POLL}&sid=${"a".repeat(8000)}`, expect: { status: 400, body: BAD(1), connectionError: 1 } },
  {
    name: "a URL above Node's header limit (refused by Node with 431)",
    kind: "raw",
    setup: "none",
    bytes: `GET ${ENGINE_PATH}?${POLL}&x=${"a".repeat(20000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    expect: { status: 431, connectionError: null },
  },
  {
    // A polling session keeps its revision whatever EIO later requests carry (engine.io 6.6.9;
    // upstream engine.io server.js "should arrive when content is sent with chunked
    // transfer-encoding (polling)" posts EIO=4 to a revision 3 session).
    name: "a session's sid with the other revision: the session keeps its own",
    kind: "http",
    setup: "polling4",
    method: "POST",
    query: "EIO=3&transport=polling&sid={sid}",
    body: "4x",
    expect: { status: 200, body: "ok", connectionError: null, close: null },
  },

  // ---- methods ----
  { name: "PUT handshake", kind: "http", setup: "none", method: "PUT", query: POLL, expect: { status: 400, body: BAD(2), connectionError: 2 } },
  { name: "DELETE handshake", kind: "http", setup: "none", method: "DELETE", query: POLL, expect: { status: 400, body: BAD(2), connectionError: 2 } },
  { name: "OPTIONS without cors", kind: "http", setup: "none", method: "OPTIONS", query: POLL, expect: { status: 400, body: BAD(2), connectionError: 2 } },
  {
    name: "PUT with a valid sid",
    kind: "http",
    setup: "polling4",
    method: "PUT",
    query: SID4,
    body: "4x",
    expect: { status: 400, body: BAD(3), connectionError: null, close: null },
  },

  // ---- headers ----
  {
    name: "Origin with a control character (refused by Node's parser)",
    kind: "raw",
    setup: "none",
    bytes: `GET ${ENGINE_PATH}?${POLL} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://a\x01b\r\n\r\n`,
    expect: { status: 400, body: "", connectionError: null },
  },
  {
    name: "Origin with a control character (lenient parser: refused by the engine)",
    kind: "raw",
    server: "lenient",
    setup: "none",
    bytes: `GET ${ENGINE_PATH}?${POLL} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://a\x01b\r\n\r\n`,
    expect: { status: 400, body: BAD(3), connectionError: 3 },
  },
  {
    name: "Origin with DEL on a WebSocket upgrade (lenient parser)",
    kind: "raw",
    server: "lenient",
    setup: "none",
    bytes: upgradeBytes("EIO=4&transport=websocket", "Origin: http://a\x7fb\r\n"),
    expect: { status: 400, body: BAD(3), connectionError: 3 },
  },
  {
    name: "upgrade of a polling session with transport=polling",
    kind: "raw",
    setup: "polling4",
    bytes: upgradeBytes("EIO=4&transport=polling&sid={sid}"),
    expect: { status: 400, body: BAD(3), connectionError: 3, close: null },
  },
  {
    name: "upgrade with sid=__proto__",
    kind: "raw",
    setup: "none",
    bytes: upgradeBytes("EIO=4&transport=websocket&sid=__proto__"),
    expect: { status: 400, body: BAD(1), connectionError: 1 },
  },

  // ---- WebSocket frames ----
  { name: "ping 2 from a revision 4 client (WebSocket)", kind: "frames", setup: "ws4", frames: [clientFrame(0x1, "2")], expect: { close: "transport error", wsClose: null } },
  { name: "unknown packet type over WebSocket", kind: "frames", setup: "ws4", frames: [clientFrame(0x1, "9x")], expect: { close: "parse error", wsClose: null } },
  { name: "empty text frame", kind: "frames", setup: "ws4", frames: [clientFrame(0x1, "")], expect: { close: "parse error", wsClose: null } },
  {
    name: "invalid UTF-8 in a text frame",
    kind: "frames",
    setup: "ws4",
    frames: [clientFrame(0x1, Buffer.from([0x34, 0xff, 0xfe]))],
    expect: { close: "transport error", wsClose: 1007 },
  },
  { name: "RSV1 set without an extension", kind: "frames", setup: "ws4", frames: [clientFrame(0x1, "4x", 0b100)], expect: { close: "transport error", wsClose: 1002 } },
  { name: "reserved opcode 0x3", kind: "frames", setup: "ws4", frames: [clientFrame(0x3, "4x")], expect: { close: "transport error", wsClose: 1002 } },
  {
    name: "unmasked client frame",
    kind: "frames",
    setup: "ws4",
    frames: [Buffer.from([0x81, 0x02, 0x34, 0x78])],
    expect: { close: "transport error", wsClose: 1002 },
  },
  {
    name: "frame above maxHttpBufferSize",
    kind: "frames",
    setup: "ws4",
    frames: [clientFrame(0x1, "4" + "a".repeat(MAX * 2))],
    expect: { close: "transport error", wsClose: 1009 },
  },
];

// ---- running a case ----

interface Ctx {
  strict: EngineFixture;
  lenient: EngineFixture;
}

interface Outcome {
  status?: number;
  body?: Buffer;
  frame?: Frame;
  pendingBody?: string;
}

async function openSession(fx: EngineFixture, setup: Setup): Promise<{ sid?: string; socket?: EngineSocket; ws?: RawWebSocket }> {
  if (setup === "none") return {};
  const serverSide = nextSocket(fx.engine);
  if (setup === "ws4") {
    const ws = await RawWebSocket.open(fx.port, `${ENGINE_PATH}?EIO=4&transport=websocket`);
    assert.equal(ws.status, 101);
    const open = await ws.next();
    assert.equal(open?.opcode, 0x1);
    const socket = await serverSide;
    return { sid: socket.id, socket, ws };
  }
  const { open } = await handshake(fx.port, setup === "polling3" ? "EIO=3&transport=polling" : POLL);
  return { sid: open.sid, socket: await serverSide };
}

async function send(c: Case, fx: EngineFixture, sid: string | undefined, ws: RawWebSocket | undefined): Promise<Outcome> {
  const fill = (s: string) => (sid === undefined ? s : s.replace("{sid}", encodeURIComponent(sid)));
  if (c.kind === "frames") {
    assert.ok(ws);
    for (const frame of c.frames) ws.send(frame);
    const frame = await ws.next();
    return { frame };
  }
  if (c.kind === "raw") {
    const res = await rawHttp(fx.port, Buffer.from(fill(c.bytes), "latin1"));
    return { status: res.status, body: res.body };
  }
  let pending: Promise<string> | undefined;
  if (c.pendingPoll && sid !== undefined) {
    const arrived = requestArrived(fx.http, (req) => req.method === "GET" && req.url?.includes(sid) === true);
    pending = poll(fx.port, sid).then((r) => r.text);
    await arrived;
  }
  const res = await request(fx.port, `${c.path ?? ENGINE_PATH}?${fill(c.query)}`, {
    method: c.method ?? "GET",
    headers: c.headers ?? (c.method === "POST" ? { "Content-Type": "text/plain;charset=UTF-8" } : undefined),
    body: c.body,
    chunks: c.chunks,
  });
  return { status: res.status, body: res.body, pendingBody: pending && (await pending) };
}

async function runCase(c: Case, ctx: Ctx): Promise<void> {
  const fx = c.kind === "raw" && c.server === "lenient" ? ctx.lenient : ctx.strict;
  const { sid, socket, ws } = await openSession(fx, c.setup);
  let closedWith: string | undefined;
  const closed = socket && new Promise<string>((resolve) => socket.once("close", (reason: string) => resolve((closedWith = reason))));
  const errors: ConnectionError[] = [];
  const onError = (e: ConnectionError) => errors.push(e);
  fx.engine.on("connection_error", onError);
  try {
    const out = await send(c, fx, sid, ws);
    const e = c.expect;
    if (e.status !== undefined) assert.equal(out.status, e.status, "status");
    if (typeof e.body === "string") assert.equal(out.body?.toString("latin1"), e.body, "body");
    else if (e.body) assert.equal(out.body?.toString(), JSON.stringify(e.body), "JSON body");
    if (e.pendingBody !== undefined) assert.equal(out.pendingBody, e.pendingBody, "pending poll");
    if (e.wsClose !== undefined) {
      assert.equal(out.frame?.opcode, 0x8, "a close frame");
      assert.equal(closeCode(out.frame), e.wsClose ?? undefined, "close code");
    }
    if (typeof e.close === "string") {
      assert.ok(closed, "case has a session");
      assert.equal(await within(closed, 2000, "session close"), e.close, "close reason");
    } else if (e.close === null) {
      // Proving a non-event: give a wrongful close a moment to happen.
      await quiet(30);
      assert.equal(closedWith, undefined, "session stays open");
      assert.equal(socket?.readyState, "open");
    }
    if (e.connectionError === null) assert.deepEqual(errors.map((x) => x.code), [], "no connection_error");
    else if (e.connectionError !== undefined) assert.deepEqual(errors.map((x) => x.code), [e.connectionError], "connection_error");
  } finally {
    fx.engine.off("connection_error", onError);
    ws?.destroy();
    // Sessions left open (or opened by the case) are dropped silently before the next case.
    for (const id of Object.keys(fx.engine.clients)) fx.engine.clients[id].close(true);
  }
}

// ---- the table ----

describe("bad input", () => {
  const ctx = {} as Ctx;
  const problems: unknown[] = [];
  const onProblem = (err: unknown) => problems.push(err);

  before(async () => {
    process.on("uncaughtException", onProblem);
    process.on("unhandledRejection", onProblem);
    const opts = { allowEIO3: true, maxHttpBufferSize: MAX };
    ctx.strict = await startEngine(opts);
    ctx.lenient = await startEngine(opts, createServer({ insecureHTTPParser: true }));
  });

  after(async () => {
    process.off("uncaughtException", onProblem);
    process.off("unhandledRejection", onProblem);
    await ctx.strict?.close();
    await ctx.lenient?.close();
  });

  for (const c of cases) {
    test(c.name, () => runCase(c, ctx));
  }

  test("afterwards both servers still serve a fresh engine.io-client, and nothing escaped", async () => {
    for (const fx of [ctx.strict, ctx.lenient]) {
      fx.engine.once("connection", (socket: EngineSocket) => socket.on("message", (m: unknown) => socket.send(m as string)));
      const client = new Client(fx.url);
      try {
        await within(once(client, "open"), T, "client open");
        client.send("still alive");
        const [msg] = await within(once<[string]>(client, "message"), T, "echo");
        assert.equal(msg, "still alive");
      } finally {
        client.close();
      }
    }
    assert.deepEqual(problems, []);
  });
});
