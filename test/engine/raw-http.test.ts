/**
 * The engine over raw HTTP: exact bytes of handshakes, polling payloads (revisions 3
 * and 4, JSONP), refusals, CORS, cookies, compression and body limits.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync, inflateSync } from "node:zlib";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { withEngine } from "../helpers";
import type { ServerOptions, CorsOptions } from "../../src/engine/index";
import {
  ENGINE_PATH,
  closeReason,
  collectConnectionErrors,
  errorBody,
  handshake,
  poll,
  post,
  request,
  requestArrived,
  session,
} from "./raw-util";

const SID = /^[A-Za-z0-9_-]{20}$/;

describe("handshake", () => {
  test("default open packet: exact body, key order, content type", () =>
    withEngine({}, async (fx) => {
      const { sid, res } = await session(fx);
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
      assert.match(sid, SID);
      assert.equal(
        res.text,
        `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
      );
      assert.deepEqual(Object.keys(JSON.parse(res.text.slice(1)) as object), [
        "sid",
        "upgrades",
        "pingInterval",
        "pingTimeout",
        "maxPayload",
      ]);
      assert.equal(res.headers["content-length"], String(Buffer.byteLength(res.text)));
    }));

  test("custom pingInterval, pingTimeout and maxHttpBufferSize appear in the open packet", () =>
    withEngine({ pingInterval: 3000, pingTimeout: 2000, maxHttpBufferSize: 5000 }, async (fx) => {
      const { sid, res } = await session(fx);
      assert.equal(res.text, `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":3000,"pingTimeout":2000,"maxPayload":5000}`);
    }));

  test("upgrades is empty when allowUpgrades is false or only polling is offered", async () => {
    for (const opts of [{ allowUpgrades: false }, { transports: ["polling" as const] }]) {
      await withEngine(opts, async (fx) => {
        const { sid, res } = await session(fx);
        assert.equal(res.text, `0{"sid":"${sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
      });
    }
  });

  test("default ids have base64id's form: 12 random bytes and a 3-byte sequence number, base64url", () =>
    withEngine({}, async (fx) => {
      // More than one pool of random bytes' worth, so that a refill happens in between.
      const ids = Array.from({ length: 600 }, () => fx.engine.generateId({} as IncomingMessage) as string);
      for (const id of ids) assert.match(id, SID);
      assert.equal(new Set(ids).size, ids.length, "no id twice");
      const sequence = (id: string) => Buffer.from(id, "base64url").readUIntBE(12, 3);
      for (let i = 1; i < ids.length; i++) assert.equal(sequence(ids[i]), (sequence(ids[i - 1]) + 1) & 0xffffff);
      const randomParts = new Set(ids.map((id) => Buffer.from(id, "base64url").subarray(0, 12).toString("hex")));
      assert.equal(randomParts.size, ids.length, "the random part differs from id to id");
    }));

  test("a custom generateId (sync or async) becomes the sid", async () => {
    await withEngine({ generateId: () => "fixed-id" }, async (fx) => {
      const { sid } = await session(fx);
      assert.equal(sid, "fixed-id");
    });
    await withEngine({ generateId: async () => "async-id" }, async (fx) => {
      const { sid } = await session(fx);
      assert.equal(sid, "async-id");
    });
  });
});

describe("revision 4 polling payloads", () => {
  test("packets sent in one turn come back in one GET, joined by \\x1e, binary as b<base64>", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send("hello");
      socket.send("world");
      socket.send(Buffer.from([1, 2, 3, 4]));
      const res = await poll(fx.port, sid);
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
      assert.equal(res.text, "4hello\x1e4world\x1ebAQIDBA==");
    }));

  // upstream engine.io server.js "should discard the packets in the writeBuffer when stopping the server":
  // the handshake response is written before `connection`, so what the handler sends waits for a GET.
  test("the handshake response carries the open packet alone; the connection handler's messages go on the next GET", () =>
    withEngine({}, async (fx) => {
      fx.engine.on("connection", (socket) => {
        socket.send("welcome");
        setImmediate(() => {
          socket.send("later 1");
          socket.send(new Uint8Array([255]));
        });
      });
      const { open, res } = await handshake(fx.port);
      assert.equal(
        res.text,
        `0{"sid":"${open.sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
      );
      const next = await poll(fx.port, open.sid);
      assert.equal(next.text, "4welcome\x1e4later 1\x1eb/w==");
    }));

  test("a POST with three packets delivers three messages; the answer is 200 ok text/html", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      const res = await post(fx.port, sid, "4hello\x1e4world\x1ebAQIDBA==");
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.equal(res.headers["content-type"], "text/html");
      assert.equal(res.headers["content-length"], "2");
      assert.equal(got.length, 3);
      assert.equal(got[0], "hello");
      assert.equal(got[1], "world");
      assert.ok(Buffer.isBuffer(got[2]));
      assert.deepEqual([...(got[2] as Buffer)], [1, 2, 3, 4]);
    }));

  test("a close packet from the client ends the session with transport close", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      const closed = closeReason(socket);
      const res = await post(fx.port, sid, "1");
      assert.equal(res.status, 200);
      assert.equal(await closed, "transport close");
    }));
});

describe("revision 3 polling payloads", () => {
  const v3 = { allowEIO3: true };

  test("text payload: <len>:<packet>, lengths counted in UTF-16 code units", () =>
    withEngine(v3, async (fx) => {
      const { sid, res } = await session(fx, "EIO=3&transport=polling");
      const open = `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`;
      assert.equal(res.text, `${open.length}:${open}`);
      assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
      const socket = fx.engine.clients[sid];
      socket.send("héllo €😀"); // 8 characters, 9 UTF-16 units, 14 UTF-8 bytes
      socket.send("a");
      const next = await poll(fx.port, sid, 3);
      assert.equal(next.text, "10:4héllo €😀2:4a");
    }));

  test("a client text payload with non-ASCII lengths in UTF-16 units is decoded", () =>
    withEngine(v3, async (fx) => {
      const { sid, socket } = await session(fx, "EIO=3&transport=polling");
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      const res = await post(fx.port, sid, "4:4€😀2:4b", 3);
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.deepEqual(got, ["€😀", "b"]);
    }));

  test("binary payload server → client: application/octet-stream records", () =>
    withEngine(v3, async (fx) => {
      const { sid, socket } = await session(fx, "EIO=3&transport=polling");
      socket.send("hi");
      socket.send(Buffer.from([1, 2, 3]));
      socket.send(Buffer.alloc(12, 7));
      const res = await poll(fx.port, sid, 3);
      assert.equal(res.headers["content-type"], "application/octet-stream");
      const expected = Buffer.concat([
        Buffer.from([0x00, 3, 0xff]),
        Buffer.from("4hi"),
        Buffer.from([0x01, 4, 0xff, 4, 1, 2, 3]),
        Buffer.from([0x01, 1, 3, 0xff, 4]),
        Buffer.alloc(12, 7),
      ]);
      assert.deepEqual(res.body, expected);
    }));

  test("binary payload client → server", () =>
    withEngine(v3, async (fx) => {
      const { sid, socket } = await session(fx, "EIO=3&transport=polling");
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      const body = Buffer.from([0x00, 3, 0xff, 0x34, 0x68, 0x69, 0x01, 4, 0xff, 4, 9, 8, 7]);
      const res = await post(fx.port, sid, body, 3, { "Content-Type": "application/octet-stream" });
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.equal(got[0], "hi");
      assert.deepEqual(got[1], Buffer.from([9, 8, 7]));
    }));

  test("b64=1: binary goes as b4<base64> in a text payload", () =>
    withEngine(v3, async (fx) => {
      const { sid, socket } = await session(fx, "EIO=3&transport=polling&b64=1");
      socket.send(Buffer.from([1, 2, 3]));
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=3&transport=polling&b64=1&sid=${sid}`);
      assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
      assert.equal(res.text, "6:b4AQID");
    }));

  test("JSONP: responses are ___eio[j](\"...\"); as text/javascript", () =>
    withEngine(v3, async (fx) => {
      const { sid, res } = await session(fx, "EIO=3&transport=polling&j=3");
      assert.equal(res.headers["content-type"], "text/javascript; charset=UTF-8");
      const open = `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`;
      assert.equal(res.text, `___eio[3](${JSON.stringify(`${open.length}:${open}`)});`);
      fx.engine.clients[sid].send('a"b\nc');
      fx.engine.clients[sid].send(Buffer.from([1, 2, 3])); // JSONP cannot carry binary: base64
      const next = await request(fx.port, `${ENGINE_PATH}?EIO=3&transport=polling&j=3&sid=${sid}`);
      assert.equal(next.text, '___eio[3]("6:4a\\"b\\nc6:b4AQID");');
    }));

  test("JSONP: POST form field d with escaped newlines", () =>
    withEngine(v3, async (fx) => {
      const { sid, socket } = await session(fx, "EIO=3&transport=polling&j=0");
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      // Messages "a<newline>b" and "x\ny" (a literal backslash-n), as the v3 client escapes them:
      // a newline is written as \n, a literal \n as \\n.
      const escaped = "4:4a\\nb5:4x\\\\ny";
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=3&transport=polling&j=0&sid=${sid}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "d=" + encodeURIComponent(escaped),
      });
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.deepEqual(got, ["a\nb", "x\\ny"]);
    }));
});

describe("refusals", () => {
  interface RefusalCase {
    name: string;
    opts?: ServerOptions;
    /** With a session: `{sid}` in the path is replaced by its id. */
    needsSession?: boolean;
    method?: string;
    path: string;
    status: number;
    code: number;
    message: string;
    context: Record<string, unknown>;
  }
  const cases: RefusalCase[] = [
    { name: "unknown transport", path: "EIO=4&transport=foo", status: 400, code: 0, message: "Transport unknown", context: { transport: "foo" } },
    { name: "missing transport", path: "EIO=4", status: 400, code: 0, message: "Transport unknown", context: { transport: undefined } },
    { name: "unknown sid", path: "EIO=4&transport=polling&sid=nope", status: 400, code: 1, message: "Session ID unknown", context: { sid: "nope" } },
    { name: "POST handshake", method: "POST", path: "EIO=4&transport=polling", status: 400, code: 2, message: "Bad handshake method", context: { method: "POST" } },
    {
      name: "websocket transport on a polling session over plain GET",
      needsSession: true,
      path: "EIO=4&transport=websocket&sid={sid}",
      status: 400,
      code: 3,
      message: "Bad request",
      context: { name: "TRANSPORT_MISMATCH", transport: "websocket", previousTransport: "polling" },
    },
    {
      name: "websocket handshake over plain GET",
      path: "EIO=4&transport=websocket",
      status: 400,
      code: 3,
      message: "Bad request",
      context: { name: "TRANSPORT_HANDSHAKE_ERROR" },
    },
    {
      name: "allowRequest refusal",
      opts: { allowRequest: (_req, fn) => fn("go away", false) },
      path: "EIO=4&transport=polling",
      status: 403,
      code: 4,
      message: "go away",
      context: { message: "go away" },
    },
    // engine.io: any EIO but 4, a missing one included, is revision 3; the context has the number.
    { name: "bad EIO", path: "EIO=5&transport=polling", status: 400, code: 5, message: "Unsupported protocol version", context: { protocol: 3 } },
    // upstream engine.io server.js "should disallow unsupported protocol versions"
    { name: "EIO=3 without allowEIO3", path: "EIO=3&transport=polling", status: 400, code: 5, message: "Unsupported protocol version", context: { protocol: 3 } },
    { name: "no EIO without allowEIO3", path: "transport=polling", status: 400, code: 5, message: "Unsupported protocol version", context: { protocol: 3 } },
    // The revision is checked last, as engine.io does; these requests carry no EIO.
    // upstream engine.io server.js "should disallow non-existent sids"
    { name: "unknown sid, no EIO", path: "transport=polling&sid=test", status: 400, code: 1, message: "Session ID unknown", context: { sid: "test" } },
    // upstream engine.io server.js "should disallow invalid handshake method"
    { name: "OPTIONS handshake, no EIO", method: "OPTIONS", path: "transport=polling", status: 400, code: 2, message: "Bad handshake method", context: { method: "OPTIONS" } },
    // upstream engine.io server.js "should disallow bad requests (handshake error)"
    { name: "websocket handshake over plain GET, no EIO", path: "transport=websocket", status: 400, code: 3, message: "Bad request", context: { name: "TRANSPORT_HANDSHAKE_ERROR" } },
    {
      // upstream engine.io server.js "should disallow requests that are rejected by `allowRequest`"
      name: "allowRequest refusal, no EIO",
      opts: { allowRequest: (_req, fn) => fn("Thou shall not pass", false) },
      path: "transport=polling",
      status: 403,
      code: 4,
      message: "Thou shall not pass",
      context: { message: "Thou shall not pass" },
    },
  ];

  for (const c of cases) {
    test(`${c.name} → ${c.status} code ${c.code}`, () =>
      withEngine(c.opts ?? {}, async (fx) => {
        let path = `${ENGINE_PATH}?${c.path}`;
        if (c.needsSession) path = path.replace("{sid}", (await session(fx)).sid);
        const seen = collectConnectionErrors(fx.engine);
        const res = await request(fx.port, path, { method: c.method ?? "GET" });
        seen.stop();
        assert.equal(res.status, c.status);
        assert.equal(res.headers["content-type"], "application/json");
        // The body's message is the documented one, except allowRequest's own message.
        const bodyMessage = c.code === 4 ? c.message : ["Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request", "Forbidden", "Unsupported protocol version"][c.code];
        assert.equal(res.text, JSON.stringify({ code: c.code, message: bodyMessage }));
        assert.equal(seen.errors.length, 1);
        const e = seen.errors[0];
        assert.equal(e.req.url, path);
        assert.equal(e.code, c.code);
        assert.equal(e.message, c.code === 4 ? "Forbidden" : bodyMessage);
        assert.deepEqual(e.context, c.context);
        if (c.needsSession) assert.equal(fx.engine.clientsCount, 1, "the session survives a refused request");
      }));
  }

  test("allowRequest that accepts lets the handshake through, and sees the request", () =>
    withEngine(
      {
        allowRequest: (req, fn) => {
          fn(null, req.headers["x-token"] === "ok");
        },
      },
      async (fx) => {
        const refused = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`);
        assert.equal(refused.status, 403);
        assert.deepEqual(errorBody(refused), { code: 4, message: "Forbidden" });
        const { res } = await session(fx, "EIO=4&transport=polling", { headers: { "x-token": "ok" } });
        assert.equal(res.status, 200);
      },
    ));
});

describe("CORS", () => {
  const accessHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((h) => h.startsWith("access-control-"));

  test("no CORS headers at all by default", () =>
    withEngine({}, async (fx) => {
      const { res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: { Origin: "https://a.example" } });
      assert.deepEqual(accessHeaders(res.headers), []);
      assert.equal(res.headers.vary, undefined);
    }));

  test("origin + credentials on a GET", () =>
    withEngine({ cors: { origin: "https://a.example", credentials: true } }, async (fx) => {
      const { res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: { Origin: "https://a.example" } });
      assert.equal(res.headers["access-control-allow-origin"], "https://a.example");
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.equal(res.headers.vary, "Origin");
    }));

  test("preflight OPTIONS → 204 with methods, headers and max-age, and no session", () =>
    withEngine({ cors: { origin: "https://a.example", credentials: true, maxAge: 600 } }, async (fx) => {
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`, {
        method: "OPTIONS",
        headers: {
          Origin: "https://a.example",
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "content-type,x-custom",
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.text, "");
      assert.equal(res.headers["access-control-allow-origin"], "https://a.example");
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.equal(res.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
      assert.equal(res.headers["access-control-allow-headers"], "content-type,x-custom");
      assert.equal(res.headers["access-control-max-age"], "600");
      assert.equal(res.headers.vary, "Origin, Access-Control-Request-Headers");
      assert.equal(fx.engine.clientsCount, 0);
    }));

  test("preflight with explicit methods and allowedHeaders", () =>
    withEngine({ cors: { origin: "https://a.example", methods: ["GET", "POST"], allowedHeaders: ["x-a", "x-b"] } }, async (fx) => {
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`, {
        method: "OPTIONS",
        headers: { Origin: "https://a.example", "Access-Control-Request-Headers": "x-other" },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers["access-control-allow-methods"], "GET,POST");
      assert.equal(res.headers["access-control-allow-headers"], "x-a,x-b");
      assert.equal(res.headers["access-control-max-age"], undefined);
    }));

  interface OriginCase {
    name: string;
    origin: CorsOptions["origin"];
    allowed: string[];
    refused: string[];
  }
  const originCases: OriginCase[] = [
    { name: "array of string and RegExp", origin: ["https://a.example", /\.b\.example$/], allowed: ["https://a.example", "https://x.b.example"], refused: ["https://evil.example", "https://a.example.evil"] },
    { name: "RegExp", origin: /^https:\/\/[a-z]+\.c\.example$/, allowed: ["https://www.c.example"], refused: ["https://www.c.example.evil", "http://www.c.example"] },
    { name: "global RegExp (lastIndex is reset)", origin: /c\.example/g, allowed: ["https://c.example", "https://c.example"], refused: ["https://d.example"] },
    {
      name: "function",
      origin: (o: string | undefined, cb: (err: Error | null, origin?: boolean) => void) => cb(null, o === "https://fn.example"),
      allowed: ["https://fn.example"],
      refused: ["https://other.example"],
    },
    { name: "true (reflect)", origin: true, allowed: ["https://any.example", "http://localhost:3000"], refused: [] },
  ];

  for (const c of originCases) {
    test(`origin as ${c.name}: only allowed origins are echoed`, () =>
      withEngine({ cors: { origin: c.origin } }, async (fx) => {
        for (const origin of c.allowed) {
          const { res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: { Origin: origin } });
          assert.equal(res.headers["access-control-allow-origin"], origin, origin);
          assert.equal(res.headers.vary, "Origin");
        }
        for (const origin of c.refused) {
          // CORS does not refuse requests; it only withholds the headers that let a browser read them.
          const { res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: { Origin: origin } });
          assert.equal(res.headers["access-control-allow-origin"], undefined, origin);
          if (typeof c.origin !== "function") assert.equal(res.headers.vary, "Origin");
        }
      }));
  }

  test("the default origin is *", () =>
    withEngine({ cors: {} }, async (fx) => {
      const { res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: { Origin: "https://a.example" } });
      assert.equal(res.headers["access-control-allow-origin"], "*");
    }));
});

describe("cookie and header events", () => {
  test("no cookie by default", () =>
    withEngine({}, async (fx) => {
      const { res } = await session(fx);
      assert.equal(res.headers["set-cookie"], undefined);
    }));

  test("cookie: true sets io=<sid> on the handshake only", () =>
    withEngine({ cookie: true }, async (fx) => {
      const { sid, socket, res } = await session(fx);
      assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
      socket.send("x");
      const next = await poll(fx.port, sid);
      assert.equal(next.text, "4x");
      assert.equal(next.headers["set-cookie"], undefined);
      const posted = await post(fx.port, sid, "4y");
      assert.equal(posted.headers["set-cookie"], undefined);
    }));

  test("custom cookie options", () =>
    withEngine({ cookie: { name: "sess", path: "/app", httpOnly: false, sameSite: "strict", maxAge: 60 } }, async (fx) => {
      const { sid, res } = await session(fx);
      assert.deepEqual(res.headers["set-cookie"], [`sess=${sid}; Max-Age=60; Path=/app; SameSite=Strict`]);
    }));

  // upstream engine.io server.js "should send the cookie with path=false"
  test("cookie with path: false has no Path and is still HttpOnly", () =>
    withEngine({ cookie: { path: false } as unknown as ServerOptions["cookie"] }, async (fx) => {
      const { sid, res } = await session(fx);
      assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; HttpOnly; SameSite=Lax`]);
    }));

  test("initial_headers adds to the handshake; headers adds to every response", () =>
    withEngine({}, async (fx) => {
      fx.engine.on("initial_headers", (headers: OutgoingHttpHeaders, req: { url?: string }) => {
        headers["X-Initial"] = "1";
        headers["X-Url"] = req.url;
      });
      fx.engine.on("headers", (headers: OutgoingHttpHeaders) => {
        headers["X-Every"] = "yes";
      });
      const { sid, socket, res } = await session(fx);
      assert.equal(res.headers["x-initial"], "1");
      assert.equal(res.headers["x-url"], `${ENGINE_PATH}?EIO=4&transport=polling`);
      assert.equal(res.headers["x-every"], "yes");
      socket.send("x");
      const next = await poll(fx.port, sid);
      assert.equal(next.headers["x-initial"], undefined);
      assert.equal(next.headers["x-every"], "yes");
      const posted = await post(fx.port, sid, "4y");
      assert.equal(posted.headers["x-every"], "yes");
      assert.equal(posted.headers["x-initial"], undefined);
    }));
});

describe("compression", () => {
  const big = "x".repeat(2000);

  test("gzip above the threshold: Content-Encoding gzip, gunzip gives the exact payload", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send(big);
      const res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "gzip, deflate" } });
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(res.headers["content-length"], String(res.body.length));
      assert.ok(res.body.length < 200);
      assert.equal(gunzipSync(res.body).toString(), "4" + big);
    }));

  test("deflate when only deflate is accepted", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send(big);
      const res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "deflate" } });
      assert.equal(res.headers["content-encoding"], "deflate");
      assert.equal(inflateSync(res.body).toString(), "4" + big);
    }));

  test("below the threshold, without Accept-Encoding, or with compress: false: not compressed", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send("small");
      let res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, "4small");
      socket.send(big);
      res = await poll(fx.port, sid);
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, "4" + big);
      socket.send(big, { compress: false });
      res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, "4" + big);
    }));

  test("httpCompression: false never compresses", () =>
    withEngine({ httpCompression: false }, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send(big);
      const res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, "4" + big);
    }));

  test("a custom threshold", () =>
    withEngine({ httpCompression: { threshold: 10 } }, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send("0123456789");
      const res = await poll(fx.port, sid, 4, { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(gunzipSync(res.body).toString(), "40123456789");
    }));
});

describe("limits and protocol violations", () => {
  // engine.io refuses the body and keeps the session; its client gives the session up.
  test("a POST above maxHttpBufferSize → 413, the session kept", () =>
    withEngine({ maxHttpBufferSize: 100 }, async (fx) => {
      const { sid, socket } = await session(fx);
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      const res = await post(fx.port, sid, "4" + "a".repeat(200));
      assert.equal(res.status, 413);
      assert.equal((await post(fx.port, sid, "4after")).status, 200);
      assert.deepEqual(got, ["after"], "only the next body is delivered");
      assert.equal(socket.readyState, "open");
    }));

  test("a chunked POST (no Content-Length) above maxHttpBufferSize → 413, the session kept", () =>
    withEngine({ maxHttpBufferSize: 100 }, async (fx) => {
      const { sid, socket } = await session(fx);
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      let framing: Array<string | undefined> = [];
      fx.http.once("request", (req) => (framing = [req.headers["transfer-encoding"], req.headers["content-length"]]));
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        chunks: ["4" + "a".repeat(60), "b".repeat(60)],
      });
      assert.deepEqual(framing, ["chunked", undefined]);
      assert.equal(res.status, 413);
      assert.equal((await post(fx.port, sid, "4after")).status, 200);
      assert.deepEqual(got, ["after"], "nothing of the oversize body is delivered");
      assert.equal(socket.readyState, "open");
    }));

  test("a POST exactly at maxHttpBufferSize is accepted", () =>
    withEngine({ maxHttpBufferSize: 100 }, async (fx) => {
      const { sid, socket } = await session(fx);
      const got: unknown[] = [];
      socket.on("message", (m: unknown) => got.push(m));
      const res = await post(fx.port, sid, "4" + "a".repeat(99));
      assert.equal(res.status, 200);
      assert.deepEqual(got, ["a".repeat(99)]);
    }));

  test("overlapping polls: the second GET → 400, the first gets the close packet, session closes", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      const closed = closeReason(socket);
      const arrived = requestArrived(fx.http, (req) => req.method === "GET" && req.url?.includes(sid) === true);
      const first = poll(fx.port, sid);
      await arrived;
      const second = await poll(fx.port, sid);
      assert.equal(second.status, 400);
      assert.deepEqual(errorBody(second), { code: 3, message: "Bad request" });
      assert.equal((await first).text, "1");
      assert.equal(await closed, "transport error");
    }));

  test("a client that does not poll again within pingInterval + pingTimeout is closed (ping timeout)", () =>
    withEngine({ pingInterval: 100, pingTimeout: 100 }, async (fx) => {
      const { socket } = await session(fx);
      assert.equal(await closeReason(socket, 3000), "ping timeout");
    }));
});

describe("middlewares", () => {
  test("engine.use() runs for polling requests and may add headers", () =>
    withEngine({}, async (fx) => {
      const seen: string[] = [];
      fx.engine.use((req, res, next) => {
        seen.push(`${req.method} ${req.url}`);
        res.setHeader("X-Middleware", "1");
        next();
      });
      const { sid, socket, res } = await session(fx);
      assert.equal(res.headers["x-middleware"], "1");
      socket.send("m");
      const next = await poll(fx.port, sid);
      assert.equal(next.headers["x-middleware"], "1");
      assert.equal(next.text, "4m");
      assert.deepEqual(seen, [`GET ${ENGINE_PATH}?EIO=4&transport=polling`, `GET ${ENGINE_PATH}?EIO=4&transport=polling&sid=${sid}`]);
    }));

  test("an error passed to next → 400 code 3 and connection_error MIDDLEWARE_FAILURE", () =>
    withEngine({}, async (fx) => {
      const failure = new Error("nope");
      fx.engine.use((_req, _res, next) => next(failure));
      const seen = collectConnectionErrors(fx.engine);
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`);
      seen.stop();
      assert.equal(res.status, 400);
      assert.equal(res.text, '{"code":3,"message":"Bad request"}');
      assert.equal(seen.errors.length, 1);
      assert.equal(seen.errors[0].code, 3);
      assert.equal(seen.errors[0].context.name, "MIDDLEWARE_FAILURE");
      assert.equal(fx.engine.clientsCount, 0);
    }));

  test("a middleware that throws is a failure too", () =>
    withEngine({}, async (fx) => {
      fx.engine.use(() => {
        throw new Error("thrown");
      });
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`);
      assert.equal(res.status, 400);
      assert.deepEqual(errorBody(res), { code: 3, message: "Bad request" });
    }));

  test("a middleware that answers the request itself stops the engine", () =>
    withEngine({}, async (fx) => {
      fx.engine.use((_req, res) => {
        res.writeHead(418);
        res.end("teapot");
      });
      const res = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`);
      assert.equal(res.status, 418);
      assert.equal(res.text, "teapot");
      assert.equal(fx.engine.clientsCount, 0);
    }));
});
