/**
 * The refusal decision without sockets: a table of requests and the code and context
 * engine.io answers them with, in its order of checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../src/engine/errors";
import { parseQuery } from "../../src/engine/query";
import { OK, verify, verifyProtocol, type Verdict, type VerifyingServer } from "../../src/engine/verify";
import { protocolOf, sidOf } from "../../src/engine/query";

function server(overrides: Partial<{ transports: Array<"polling" | "websocket">; closing: boolean }> = {}): VerifyingServer {
  return {
    opts: { transports: overrides.transports ?? ["polling", "websocket"] },
    closing: overrides.closing ?? false,
    clients: Object.assign(Object.create(null) as Record<string, never>, {
      pollingV4: { transport: { name: "polling" }, protocol: 4 },
      pollingV3: { transport: { name: "polling" }, protocol: 3 },
      ws: { transport: { name: "websocket" }, protocol: 4 },
    }),
  };
}

interface Row {
  name: string;
  url: string;
  method?: string;
  origin?: string;
  upgrade?: boolean;
  server?: VerifyingServer;
  expected: Verdict;
}

const rows: Row[] = [
  { name: "polling handshake", url: "/?EIO=4&transport=polling", expected: OK },
  { name: "websocket handshake", url: "/?EIO=4&transport=websocket", upgrade: true, expected: OK },
  { name: "no transport", url: "/?EIO=4", expected: { code: ErrorCode.UNKNOWN_TRANSPORT, context: { transport: undefined } } },
  { name: "unknown transport", url: "/?EIO=4&transport=tobi", expected: { code: ErrorCode.UNKNOWN_TRANSPORT, context: { transport: "tobi" } } },
  {
    name: "transport switched off",
    url: "/?EIO=4&transport=websocket",
    upgrade: true,
    server: server({ transports: ["polling"] }),
    expected: { code: ErrorCode.UNKNOWN_TRANSPORT, context: { transport: "websocket" } },
  },
  { name: "inherited key is not a transport", url: "/?EIO=4&transport=constructor", expected: { code: ErrorCode.UNKNOWN_TRANSPORT, context: { transport: "constructor" } } },
  {
    name: "invalid origin (before the session)",
    url: "/?EIO=4&transport=polling&sid=nope",
    origin: "bad\u0001origin",
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "INVALID_ORIGIN", origin: "bad\u0001origin" } },
  },
  {
    name: "origin above U+00FF",
    url: "/?EIO=4&transport=polling",
    origin: "\u0100",
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "INVALID_ORIGIN", origin: "\u0100" } },
  },
  { name: "tab and obs-text in origin", url: "/?EIO=4&transport=polling", origin: "a\tb\u00ff", expected: OK },
  { name: "unknown sid", url: "/?EIO=4&transport=polling&sid=nope", expected: { code: ErrorCode.UNKNOWN_SID, context: { sid: "nope" } } },
  { name: "prototype key as sid", url: "/?EIO=4&transport=polling&sid=__proto__", expected: { code: ErrorCode.UNKNOWN_SID, context: { sid: "__proto__" } } },
  { name: "poll of a session", url: "/?EIO=4&transport=polling&sid=pollingV4", method: "POST", expected: OK },
  {
    name: "polling request on a websocket session",
    url: "/?EIO=4&transport=polling&sid=ws",
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "TRANSPORT_MISMATCH", transport: "polling", previousTransport: "websocket" } },
  },
  {
    name: "upgrade with transport=polling",
    url: "/?EIO=4&transport=polling&sid=pollingV4",
    upgrade: true,
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "TRANSPORT_MISMATCH", transport: "polling", previousTransport: "polling" } },
  },
  { name: "upgrade of a session", url: "/?EIO=4&transport=websocket&sid=pollingV4", upgrade: true, expected: OK },
  {
    name: "upgrade for another revision",
    url: "/?EIO=3&transport=websocket&sid=pollingV4",
    upgrade: true,
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "PROTOCOL_MISMATCH", protocol: 3, previousProtocol: 4 } },
  },
  { name: "poll keeps its revision whatever EIO says", url: "/?EIO=4&transport=polling&sid=pollingV3", expected: OK },
  { name: "empty sid is a handshake", url: "/?EIO=4&transport=polling&sid=", expected: OK },
  { name: "POST handshake", url: "/?EIO=4&transport=polling", method: "POST", expected: { code: ErrorCode.BAD_HANDSHAKE_METHOD, context: { method: "POST" } } },
  {
    name: "handshake while closing",
    url: "/?EIO=4&transport=polling",
    server: server({ closing: true }),
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "SERVER_CLOSING" } },
  },
  {
    name: "method checked before closing",
    url: "/?EIO=4&transport=polling",
    method: "PUT",
    server: server({ closing: true }),
    expected: { code: ErrorCode.BAD_HANDSHAKE_METHOD, context: { method: "PUT" } },
  },
  { name: "a session's poll while closing", url: "/?EIO=4&transport=polling&sid=pollingV4", server: server({ closing: true }), expected: OK },
  {
    name: "websocket handshake over HTTP",
    url: "/?EIO=4&transport=websocket",
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "TRANSPORT_HANDSHAKE_ERROR" } },
  },
  {
    name: "polling handshake over an upgrade",
    url: "/?EIO=4&transport=polling",
    upgrade: true,
    expected: { code: ErrorCode.BAD_REQUEST, context: { name: "TRANSPORT_HANDSHAKE_ERROR" } },
  },
  { name: "revision 3 handshake passes (revision is checked after allowRequest)", url: "/?EIO=3&transport=polling", expected: OK },
];

for (const row of rows) {
  test(`verify: ${row.name}`, () => {
    const req = { _query: parseQuery(row.url), method: row.method ?? "GET", headers: row.origin === undefined ? {} : { origin: row.origin } };
    assert.deepEqual(verify(req, row.upgrade ?? false, row.server ?? server()), row.expected);
  });
}

test("verifyProtocol: revision 4 always; revision 3 (also a missing or other EIO) only with allowEIO3", () => {
  assert.equal(verifyProtocol(parseQuery("/?EIO=4"), false), OK);
  assert.equal(verifyProtocol(parseQuery("/?EIO=3"), true), OK);
  assert.deepEqual(verifyProtocol(parseQuery("/?EIO=3"), false), { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, context: { protocol: 3 } });
  assert.deepEqual(verifyProtocol(parseQuery("/"), false), { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, context: { protocol: 3 } });
  assert.deepEqual(verifyProtocol(parseQuery("/?EIO=5"), false), { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, context: { protocol: 3 } });
});

test("sidOf and protocolOf read the query as engine.io does", () => {
  assert.equal(sidOf(parseQuery("/?sid=")), undefined);
  assert.equal(sidOf(parseQuery("/?sid=abc")), "abc");
  assert.equal(sidOf(parseQuery("/?x=1")), undefined);
  assert.equal(protocolOf(parseQuery("/?EIO=4")), 4);
  assert.equal(protocolOf(parseQuery("/?EIO=04")), 3);
});
