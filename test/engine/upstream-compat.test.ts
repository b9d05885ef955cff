/**
 * Behaviours of the official engine.io server that its own test suite (packages/engine.io/test
 * /server.js and engine.io.js) checks, each mirrored here against real peers over loopback:
 * the order of refusals, the private members the suite reaches, send callbacks, and what
 * engine.close() does to a session's buffered packets.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Socket as Client } from "engine.io-client";
import { Server, type Socket as EngineSocket } from "../../src/engine/index";
import { T, once, within, withEngine } from "../helpers";
import {
  ENGINE_PATH,
  WsPeer,
  closeReason,
  collectConnectionErrors,
  errorBody,
  handshake,
  nextSocket,
  poll,
  post,
  request,
  session,
} from "./raw-util";

describe("upstream engine.io suite: server shape", () => {
  // upstream engine.io engine.io.js "should create a Server when require called with no arguments"
  test("new Server() has a WebSocket server (engine.ws); without the websocket transport it has none", () => {
    assert.ok(new Server().ws);
    assert.equal(new Server({ transports: ["polling"] }).ws, undefined);
  });

  // upstream engine.io server.js "should disallow invalid origin header": the test replaces prepare().
  test("prepare() is the hook that parses the query, and the Origin check comes before the revision's", () =>
    withEngine({}, async (fx) => {
      const engine = fx.engine;
      engine.prepare = function (req: IncomingMessage) {
        Server.prototype.prepare.call(engine, req);
        req.headers.origin += "\n";
      };
      const seen = collectConnectionErrors(engine);
      const res = await request(fx.port, `${ENGINE_PATH}?transport=websocket`, { headers: { Origin: "http://engine.io/" } });
      seen.stop();
      assert.equal(res.status, 400);
      assert.deepEqual(errorBody(res), { code: 3, message: "Bad request" });
      assert.equal(seen.errors.length, 1);
      assert.deepEqual(seen.errors[0].context, { name: "INVALID_ORIGIN", origin: "http://engine.io/\n" });
    }));

  // upstream engine.io server.js "should send the io cookie custom name" and the others that
  // handshake without EIO: engine.io takes a missing EIO for revision 3.
  test("a handshake without EIO is a revision 3 one when allowEIO3 is on", () =>
    withEngine({ allowEIO3: true }, async (fx) => {
      const connection = nextSocket(fx.engine);
      const res = await request(fx.port, `${ENGINE_PATH}?transport=polling`);
      assert.equal(res.status, 200);
      assert.match(res.text, /^\d+:0\{"sid":/);
      assert.equal((await connection).protocol, 3);
    }));

  // upstream engine.io server.js "should allow client reconnect after restarting (ws)"
  test("WebSockets are accepted again once the HTTP server listens again after a close", () =>
    withEngine({}, async (fx) => {
      fx.http.close();
      await new Promise<void>((resolve) => fx.http.listen(fx.port, "127.0.0.1", resolve));
      const peer = new WsPeer(`ws://127.0.0.1:${fx.port}${ENGINE_PATH}?EIO=4&transport=websocket`);
      assert.match(await peer.nextText(), /^0\{"sid":/);
      peer.ws.close();
      await peer.waitClosed();
    }));
});

describe("upstream engine.io suite: the session's private members", () => {
  // upstream engine.io server.js "should be able to access non-empty writeBuffer at closing (server)"
  test("writeBuffer is a real array: close listeners still see it, it is empty afterwards", () =>
    withEngine({}, async (fx) => {
      const { socket } = await session(fx);
      const lengths: number[] = [];
      const closed = new Promise<void>((resolve) =>
        socket.on("close", () => {
          lengths.push(socket.writeBuffer.length);
          setImmediate(() => {
            lengths.push(socket.writeBuffer.length);
            resolve();
          });
        }),
      );
      socket.writeBuffer.push({ type: "message", data: "foo" });
      socket.onError(new Error(""));
      await within(closed, T, "close");
      assert.deepEqual(lengths, [1, 0]);
    }));

  // upstream engine.io server.js "should clean callback references when socket gets closed with pending callbacks"
  test("packetsFn and sentCallbackFn are empty when close is heard; an unsent packet's callback never runs", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      let called = 0;
      socket.send("a", () => called++);
      assert.equal(socket.packetsFn.length, 1);
      assert.equal(socket.writeBuffer.length, 1);
      const seen = new Promise<[number, number]>((resolve) =>
        socket.on("close", () => resolve([socket.packetsFn.length, socket.sentCallbackFn.length])),
      );
      await post(fx.port, sid, "1");
      assert.deepEqual(await within(seen, T, "close"), [0, 0]);
      assert.equal(called, 0);
    }));

  // upstream socket.io close.ts "protocol violations": "session is cleanly closed ... then a close packet"
  test("a close with no GET waiting answers the next GET with a noop and the close packet", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      const reason = closeReason(socket);
      socket.close();
      assert.equal((await poll(fx.port, sid)).text, "6\x1e1");
      assert.equal(await reason, "forced close");
    }));

  // upstream engine.io server.js "should close transport upon parse error (polling)" sets it.
  test("a polling transport's closeTimeout bounds how long a close waits for the next GET", () =>
    withEngine({}, async (fx) => {
      const { socket } = await session(fx);
      (socket.transport as unknown as { closeTimeout: number }).closeTimeout = 20;
      const reason = closeReason(socket);
      socket.close();
      assert.equal(await reason, "forced close");
    }));
});

describe("upstream engine.io suite: sending", () => {
  for (const transport of ["polling", "websocket"] as const) {
    // upstream engine.io server.js "should execute when message sent (polling)" / "(websocket)"
    test(`send(data, callback) calls the callback once the message is written (${transport})`, () =>
      withEngine({}, async (fx) => {
        const sent = new Promise<string>((resolve) =>
          fx.engine.once("connection", (socket: EngineSocket) => {
            socket.send("a", (t) => resolve(t.name));
          }),
        );
        const client = new Client(fx.url, { transports: [transport] });
        try {
          const [message] = await within(once<[string]>(client, "message"), T, "message");
          assert.equal(message, "a");
          assert.equal(await within(sent, T, "send callback"), transport);
        } finally {
          client.close();
        }
      }));
  }

  // upstream engine.io server.js "should execute when message sent during polling upgrade window"
  test("a message sent while the client probes a WebSocket arrives, and its callback runs", () =>
    withEngine({}, async (fx) => {
      const sent = new Promise<void>((resolve) =>
        fx.engine.once("connection", (socket: EngineSocket) => {
          socket.once("upgrading", () => socket.send("a", () => resolve()));
        }),
      );
      const client = new Client(fx.url, { transports: ["polling", "websocket"] });
      try {
        const [message] = await within(once<[string]>(client, "message"), T, "message");
        assert.equal(message, "a");
        await within(sent, T, "send callback");
      } finally {
        client.close();
      }
    }));

  // upstream engine.io server.js "should upgrade" sends numbers; "should trigger when calling
  // socket.close() in payload" sends null.
  test("numbers are sent as their text, null as an empty message", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      socket.send(5 as unknown as string);
      socket.send(null as unknown as string);
      socket.send("x");
      assert.equal((await poll(fx.port, sid)).text, "45\x1e4\x1e4x");
    }));

  // upstream engine.io server.js "should discard the packets in the writeBuffer when stopping the server"
  test("engine.close() in the connection handler drops what the handler sent: the next GET finds no session", () =>
    withEngine({}, async (fx) => {
      fx.engine.once("connection", (socket: EngineSocket) => {
        socket.send("hello");
        fx.engine.close();
      });
      const { open, res } = await handshake(fx.port);
      assert.equal(res.text.includes("hello"), false);
      const next = await poll(fx.port, open.sid);
      assert.equal(next.status, 400);
      assert.deepEqual(errorBody(next), { code: 1, message: "Session ID unknown" });
    }));
});

describe("upstream engine.io suite: closing during an upgrade", () => {
  // upstream engine.io server.js "graceful close should stop upgrading socket and timers": the
  // client has paused polling for the upgrade, so only the WebSocket can tell it of the close.
  test("a session closed after its probe was answered closes the WebSocket once the client switches to it", () =>
    withEngine({}, async (fx) => {
      const { sid, socket } = await session(fx);
      const released = poll(fx.port, sid);
      const peer = new WsPeer(`ws://127.0.0.1:${fx.port}${ENGINE_PATH}?EIO=4&transport=websocket&sid=${sid}`);
      await peer.opened;
      peer.send("2probe");
      assert.equal(await peer.nextText(), "3probe");
      assert.equal((await released).text, "6");
      const reason = closeReason(socket);
      fx.engine.close();
      assert.equal(await reason, "forced close");
      // A round trip later the WebSocket is still open: the client has not switched yet.
      assert.equal((await poll(fx.port, sid)).status, 400);
      assert.equal(peer.ws.readyState, peer.ws.OPEN);
      peer.send("5");
      await peer.waitClosed();
    }));
});

describe("upstream engine.io suite: polling response headers and CORS", () => {
  // upstream engine.io server.js "should include a 'cache-control' header" and
  // "should contain X-XSS-Protection: 0 for IE11"
  test("polling responses say cache-control: no-store, and X-XSS-Protection: 0 to Internet Explorer", () =>
    withEngine({}, async (fx) => {
      const ie = { "User-Agent": "Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko" };
      const { open, res } = await handshake(fx.port, "EIO=4&transport=polling", { headers: ie });
      assert.equal(res.headers["cache-control"], "no-store");
      assert.equal(res.headers["x-xss-protection"], "0");
      const answer = await post(fx.port, open.sid, "4hi", 4, ie);
      assert.equal(answer.headers["cache-control"], "no-store");
      assert.equal(answer.headers["x-xss-protection"], "0");
      const plain = await handshake(fx.port);
      assert.equal(plain.res.headers["x-xss-protection"], undefined);
    }));

  // upstream engine.io server.js "should allow CORS from the current origin (preflight request)"
  test("CORS takes the cors package's `headers` alias of allowedHeaders", () =>
    withEngine({ cors: { origin: true, headers: ["my-header"], credentials: true } }, async (fx) => {
      const res = await request(fx.port, `${ENGINE_PATH}?transport=polling`, {
        method: "OPTIONS",
        headers: { Origin: "http://engine.io" },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers["access-control-allow-origin"], "http://engine.io");
      assert.equal(res.headers["access-control-allow-headers"], "my-header");
      assert.equal(res.headers["access-control-allow-credentials"], "true");
    }));
});
