/**
 * Random HTTP requests against a live Volley Socket.IO server: methods, paths on and off
 * `/socket.io/`, query strings (EIO, transport, sid of a live session or not, j, b64, t,
 * random keys), headers and bodies (Engine.IO payloads of both revisions, JSONP forms,
 * random bytes), written byte for byte on raw TCP connections.
 *
 * Each request must get a well-formed answer with an expected status (the engine's
 * refusals with their JSON body), nothing may escape as an uncaught exception or
 * unhandled rejection, and afterwards every session the fuzzing opened ends within the
 * heartbeat timeouts and a real socket.io-client is served over both transports.
 * Bounded in runs and in time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import fc from "fast-check";
import type { IoFixture } from "../socket-helpers";
import { until } from "../helpers";
import { assertServes, type ProcessWatch, unwatch, watched } from "../regressions/util";
import { request } from "../engine/raw-util";
import { PING_INTERVAL, PING_TIMEOUT, SCALE, bytes, engineIoText, socketIoText, startFuzzServer } from "./util";

const RUNS = Math.ceil(400 * SCALE);
const TIME_LIMIT = 7000 * SCALE;
/** A long poll waits at most pingInterval for its ping; anything else is answered at once. */
const ANSWER_WITHIN = 1000;
const LIVE = "<live sid>";
const STATUSES = new Set([200, 204, 304, 400, 403, 404, 413, 431]);
const CLIENT_FILES = /^\/socket\.io\/socket\.io(\.min|\.esm\.min|\.msgpack\.min)?\.js(\.map)?/;

let fx: IoFixture;
let watch: ProcessWatch;
before(async () => ({ fx, watch } = await watched(() => startFuzzServer())));
after(() => unwatch(fx, watch));

interface FuzzRequest {
  method: string;
  path: string;
  query: Array<[string, string]>;
  rawQuery: boolean;
  headers: Array<[string, string]>;
  body: Buffer;
}

// ---- arbitraries ----

const token = fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 40 });
const queryText = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", "__proto__", "constructor", "toString", "%", "%zz", "a&b", "=", "[]"));

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("GET", "POST") },
  { weight: 2, arbitrary: fc.constantFrom("PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "CONNECT", "TRACE") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,8}$/) },
);

const path = fc.oneof(
  { weight: 8, arbitrary: fc.constant("/socket.io/") },
  {
    weight: 3,
    arbitrary: fc.constantFrom("/socket.io", "/socket.io//", "/socket.io/x/y", "/socket.ioX/", "/", "/other", "/SOCKET.IO/", "/socket.io/../socket.io/", "/socket.io/socket.io.js", "/socket.io/socket.io.min.js.map", "/socket.io/socket.io.nope.js", "//socket.io/"),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^\/[a-zA-Z0-9._~%/-]{0,20}$/) },
);

const queryPair: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constant("EIO"), fc.oneof(fc.constantFrom("4", "4", "3", "5", "", "04", "4.0"), queryText)) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("transport"), fc.oneof(fc.constantFrom("polling", "polling", "websocket", "flashsocket", "__proto__"), queryText)) },
  { weight: 3, arbitrary: fc.tuple(fc.constant("sid"), fc.oneof({ weight: 3, arbitrary: fc.constant(LIVE) }, { weight: 1, arbitrary: queryText })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("j", "b64", "t"), fc.oneof(fc.nat(9999).map(String), queryText)) },
  { weight: 1, arbitrary: fc.tuple(queryText, queryText) },
);

const header: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constant("Content-Type"), fc.oneof(fc.constantFrom("text/plain;charset=UTF-8", "application/octet-stream", "application/x-www-form-urlencoded"), headerValue)) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("Origin"), fc.oneof(fc.constantFrom("https://evil.example", "null", "http://a\x80b"), headerValue)) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("Accept-Encoding"), fc.oneof(fc.constantFrom("gzip", "deflate", "br", "identity", "*", "gzip;q=0, deflate;q=1"), headerValue)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("Cookie", "If-None-Match", "User-Agent", "X-Forwarded-For", "Accept"), headerValue) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      token.filter((t) => !/^(content-length|transfer-encoding|host|connection|upgrade|expect|te|trailer)$/i.test(t)),
      headerValue,
    ),
  },
);

/** Bodies: revision 4 payloads, revision 3 length-prefixed ones, JSONP forms, raw bytes. */
const body: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.array(engineIoText, { minLength: 1, maxLength: 4 }).map((ps) => Buffer.from(ps.join("\x1e"))) },
  { weight: 2, arbitrary: fc.array(engineIoText, { minLength: 1, maxLength: 3 }).map((ps) => Buffer.from(ps.map((p) => `${p.length}:${p}`).join(""))) },
  { weight: 1, arbitrary: socketIoText.map((p) => Buffer.from("d=" + encodeURIComponent(`${p.length + 1}:4${p}`))) },
  { weight: 1, arbitrary: bytes(64) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

/** Mostly a plausible Engine.IO query (so that sessions are reached), with extra or odd pairs. */
const plausibleQuery: fc.Arbitrary<Array<[string, string]>> = fc
  .record({
    eio: fc.constantFrom("4", "4", "4", "4", "3", "5"),
    transport: fc.constantFrom("polling", "polling", "polling", "polling", "polling", "websocket", "__proto__"),
    sid: fc.constantFrom<string | undefined>(LIVE, LIVE, LIVE, undefined, "nope"),
    extra: fc.array(fc.oneof({ weight: 6, arbitrary: fc.tuple(fc.constantFrom("j", "b64", "t", "x"), fc.oneof(fc.nat(99).map(String), queryText)) }, { weight: 1, arbitrary: queryPair }), { maxLength: 3 }),
  })
  .map(({ eio, transport, sid, extra }) => {
    const base: Array<[string, string]> = [["EIO", eio], ["transport", transport]];
    if (sid !== undefined) base.push(["sid", sid]);
    return [...base, ...extra];
  });

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method,
  path,
  query: fc.oneof({ weight: 3, arbitrary: plausibleQuery }, { weight: 1, arbitrary: fc.array(queryPair, { maxLength: 6 }) }),
  rawQuery: fc.boolean(),
  headers: fc.uniqueArray(header, { maxLength: 5, selector: ([name]) => name.toLowerCase() }),
  body,
});

// ---- running one ----

/** A live polling session to name in `sid` (revision 4 or 3, as the request's EIO says). */
async function liveSid(eio: string | undefined): Promise<string> {
  const res = await request(fx.port, `/socket.io/?EIO=${eio === "3" ? 3 : 4}&transport=polling`);
  const text = res.text;
  const json = text.slice(text.indexOf("{"), text.indexOf("}") + 1);
  return (JSON.parse(json) as { sid: string }).sid;
}

function encodeQuery(pairs: Array<[string, string]>, raw: boolean): string {
  const part = (s: string) => (raw ? s.replace(/[^\x21-\x7e]/g, encodeURIComponent) : encodeURIComponent(s));
  return pairs.map(([k, v]) => `${part(k)}=${part(v)}`).join("&");
}

interface Answer {
  status: number | undefined;
  head: string;
  body: Buffer;
}

/** Writes the request on a fresh connection; reads until the server closes it or `ms` pass. */
function exchange(bytesOut: Buffer, ms: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(fx.port, "127.0.0.1", () => socket.write(bytesOut));
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      const head = (end === -1 ? all : all.subarray(0, end)).toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      resolve({ status: match ? Number(match[1]) : undefined, head, body: end === -1 ? Buffer.alloc(0) : all.subarray(end + 4) });
    };
    const timer = setTimeout(finish, ms);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", finish);
    socket.on("close", finish);
  });
}

/** How often each status was answered (reported as a diagnostic, to see what the fuzzing reached). */
const tally = new Map<string, number>();

async function run(r: FuzzRequest): Promise<void> {
  const eio = r.query.find(([k]) => k === "EIO")?.[1];
  const query: Array<[string, string]> = [];
  for (const [k, v] of r.query) query.push([k, v === LIVE ? await liveSid(eio) : v]);
  const target = query.length > 0 ? `${r.path}?${encodeQuery(query, r.rawQuery)}` : r.path;
  const head =
    `${r.method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    (r.body.length > 0 || r.method === "POST" ? `Content-Length: ${r.body.length}\r\n` : "") +
    "\r\n";
  const answer = await exchange(Buffer.concat([Buffer.from(head, "latin1"), r.body]), ANSWER_WITHIN);
  const what = `${r.method} ${target.slice(0, 120)} → ${answer.head.split("\r\n")[0]}`;
  const key = `${answer.status ?? "none"}${r.path === "/socket.io/" ? " engine" : ""}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  if (r.method === "CONNECT") return; // Node handles CONNECT itself ('connect' event, no listener: closed)
  assert.ok(answer.status !== undefined, `an answer within ${ANSWER_WITHIN} ms: ${what}`);
  const isClientFile = CLIENT_FILES.test(r.path);
  assert.ok(STATUSES.has(answer.status) || (isClientFile && answer.status === 500), `expected status: ${what}`);
  const isJson = /\r\ncontent-type: application\/json/i.test(answer.head);
  if (r.path === "/socket.io/" && (answer.status === 400 || answer.status === 403) && isJson && r.method !== "HEAD") {
    const chunked = /\r\ntransfer-encoding: chunked/i.test(answer.head);
    const err = JSON.parse((chunked ? dechunk(answer.body) : answer.body).toString()) as { code: number; message: string };
    assert.ok(Number.isInteger(err.code) && err.code >= 0 && err.code <= 5, `error code: ${what} ${answer.body.toString()}`);
    assert.equal(typeof err.message, "string");
  }
}

/** The body of a chunked response. */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", offset);
    const size = parseInt(raw.subarray(offset, eol).toString(), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    offset = eol + 2 + size + 2;
  }
}

test(`${RUNS} random HTTP requests (at most ${TIME_LIMIT} ms): expected answers, nothing escapes`, { timeout: TIME_LIMIT + 20_000 }, async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fuzzRequest, async (r) => {
      runs++;
      await run(r);
      assert.deepEqual(watch.problems, [], "nothing escaped");
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} requests; answers: ${[...tally].sort().map(([k, n]) => `${k}: ${n}`).join(", ")}`);
  assert.ok(runs >= Math.min(RUNS, 100), `at least 100 requests ran (${runs})`);
});

test("afterwards: every session the fuzzing opened has ended, a real client is served over both transports", async () => {
  const ended = 4 * (PING_INTERVAL + PING_TIMEOUT) + 1000;
  await until(() => fx.io.engine.clientsCount === 0, ended, "sessions ending").catch(() => {}); // asserted below
  assert.equal(fx.io.engine.clientsCount, 0, "sessions left");
  assert.equal(fx.io.of("/").sockets.size, 0);
  assert.equal(fx.io.of("/admin").sockets.size, 0);
  await assertServes(fx, ["polling"]);
  await assertServes(fx, ["websocket"]);
  await assertServes(fx);
  assert.deepEqual(watch.problems, []);
});
