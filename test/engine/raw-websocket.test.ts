/**
 * The engine over WebSocket, driven by the `ws` client (and by hand where the bytes of
 * the HTTP exchange matter): frames, the polling → WebSocket upgrade step by step,
 * refusals, limits, permessage-deflate, headers and cookies.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { T, within, type EngineFixture, withEngine } from "../helpers";
import type { ServerOptions } from "../../src/engine/index";
import type { Socket as EngineSocket } from "../../src/engine/socket";
import {
  ENGINE_PATH,
  RawWebSocket,
  clientFrame,
  closeReason,
  collectConnectionErrors,
  errorBody,
  handshake,
  nextSocket,
  poll,
  requestArrived,
  WsPeer,
} from "./raw-util";

const wsUrl = (fx: EngineFixture, query: string) => `ws://127.0.0.1:${fx.port}${ENGINE_PATH}?${query}`;

/** A direct WebSocket session: the peer, its open packet and the server side. */
async function wsSession(fx: EngineFixture, query = "EIO=4&transport=websocket", options = {}) {
  const serverSide = nextSocket(fx.engine);
  const peer = new WsPeer(wsUrl(fx, query), options);
  const openText = await peer.nextText();
  const socket = await serverSide;
  return { peer, socket, openText, sid: socket.id };
}

describe("direct WebSocket sessions", () => {
  test("the open packet is the first frame, with no upgrades", () =>
    withEngine({}, async (fx) => {
      const { peer, openText, sid } = await wsSession(fx);
      assert.equal(openText, `0{"sid":"${sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
      assert.equal(fx.engine.clients[sid].transport.name, "websocket");
      peer.ws.close();
    }));

  test("the 101 response and the open packet arrive in one TCP write", () =>
    withEngine({}, async (fx) => {
      // A client in this process reads only once the server's turn is over, so it would see
      // one chunk anyway: the server side counts the writes it hands to the kernel.
      let writes = 0;
      fx.http.prependListener("upgrade", (_req: IncomingMessage, raw: Duplex) => {
        type WriteImpl = (this: Duplex, ...args: unknown[]) => void;
        const stream = raw as unknown as { _write: WriteImpl; _writev?: WriteImpl };
        const write = stream._write;
        const writev = stream._writev;
        stream._write = function (...args) {
          writes++;
          write.apply(this, args);
        };
        if (writev) {
          stream._writev = function (...args) {
            writes++;
            writev.apply(this, args);
          };
        }
      });
      const socket = connect(fx.port, "127.0.0.1");
      try {
        const first = within(
          new Promise<Buffer>((resolve, reject) => {
            socket.once("data", resolve);
            socket.once("error", reject);
          }),
          T,
          "first chunk",
        );
        socket.write(
          `GET ${ENGINE_PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${fx.port}\r\n` +
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n",
        );
        const chunk = await first;
        const end = chunk.indexOf("\r\n\r\n");
        assert.ok(end > 0, "the chunk holds the whole response head");
        assert.match(chunk.toString("latin1", 0, end), /^HTTP\/1\.1 101 /);
        const frame = chunk.subarray(end + 4);
        assert.equal(frame[0], 0x81, "a final text frame follows the head in the same chunk");
        const length = frame[1] & 0x7f;
        assert.ok(length < 126 && frame.length === 2 + length, "the whole frame is in the chunk");
        assert.match(frame.toString("utf8", 2), /^0\{"sid":"[^"]+","upgrades":\[\]/);
        assert.equal(writes, 1, "one write for the response head and the open packet");
      } finally {
        socket.destroy();
      }
    }));

  for (const middleware of ["no middleware", "an async middleware"] as const) {
    test(`frames sent in the same write as the upgrade request are read, in order (${middleware})`, () =>
      withEngine({}, async (fx) => {
        if (middleware === "an async middleware") fx.engine.use((_req, _res, next) => void setImmediate(next));
        // Listening from the connection event on: the frames may be read in the same turn.
        const messages: unknown[] = [];
        const three = new Promise<void>((resolve) =>
          fx.engine.once("connection", (engineSocket: EngineSocket) =>
            engineSocket.on("message", (data: unknown) => {
              messages.push(Buffer.isBuffer(data) ? [...data] : data);
              if (messages.length === 3) resolve();
            }),
          ),
        );
        const socket = connect(fx.port, "127.0.0.1");
        try {
          socket.on("error", () => {});
          await new Promise<void>((resolve) => socket.once("connect", resolve));
          socket.write(
            Buffer.concat([
              Buffer.from(
                `GET ${ENGINE_PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${fx.port}\r\n` +
                  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                  "Sec-WebSocket-Version: 13\r\n\r\n",
              ),
              clientFrame(0x1, "4first"),
              clientFrame(0x2, Buffer.from([1, 2, 3])), // binary frames carry no packet type in revision 4
              clientFrame(0x1, "4third"),
            ]),
          );
          await within(three, T, "three messages");
          assert.deepEqual(messages, ["first", [1, 2, 3], "third"]);
        } finally {
          socket.destroy();
        }
      }));
  }

  test("the server has forgotten a session when its close event runs", () =>
    withEngine({}, async (fx) => {
      const { peer, socket, sid } = await wsSession(fx);
      assert.equal(fx.engine.clientsCount, 1);
      const seen = within(
        new Promise<{ count: number; listed: boolean }>((resolve) =>
          socket.once("close", () => resolve({ count: fx.engine.clientsCount, listed: sid in fx.engine.clients })),
        ),
        T,
        "session close",
      );
      peer.ws.close();
      assert.deepEqual(await seen, { count: 0, listed: false });
    }));

  test("listeners on the transport get its packets and its close, after the session", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const order: string[] = [];
      const transport = socket.transport;
      socket.on("message", (data: unknown) => order.push(`session message ${String(data)}`));
      transport.on("packet", (packet: { type: string; data?: unknown }) => order.push(`transport packet ${packet.type} ${String(packet.data)}`));
      socket.on("close", (reason: string) => order.push(`session close ${reason}`));
      const transportClosed = within(new Promise<void>((resolve) => transport.once("close", () => resolve())), T, "transport close");
      peer.send("4hi");
      await within(new Promise((resolve) => transport.once("packet", resolve)), T, "packet");
      peer.ws.close();
      await transportClosed;
      assert.deepEqual(order, ["session message hi", "transport packet message hi", "session close transport close"]);
      assert.equal(transport.readyState, "closed");
    }));

  test("a listener on the transport gets its error, after the session closed on it", () =>
    withEngine({}, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const raw = await RawWebSocket.open(fx.port, `${ENGINE_PATH}?EIO=4&transport=websocket`);
      try {
        const socket = await serverSide;
        const order: string[] = [];
        socket.on("close", (reason: string) => order.push(`session close ${reason}`));
        const errored = within(
          new Promise<void>((resolve) =>
            socket.transport.on("error", (err: Error & { type?: string }) => {
              order.push(`transport error ${err.type}`);
              resolve();
            }),
          ),
          T,
          "transport error",
        );
        raw.send(clientFrame(0x1, "4x", 0b100)); // RSV1 without an extension
        await errored;
        assert.deepEqual(order, ["session close transport error", "transport error TransportError"]);
      } finally {
        raw.destroy();
      }
    }));

  test("text frames 4hello both ways", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send("4hello");
      assert.equal(await within(got, T, "server message"), "hello");
      socket.send("hello");
      assert.equal(await peer.nextText(), "4hello");
      peer.ws.close();
    }));

  test("several packets in one turn arrive as separate frames, in order", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      socket.send("a");
      socket.send(Buffer.from([1]));
      socket.send("b");
      assert.equal(await peer.nextText(), "4a");
      assert.deepEqual(await peer.next(), { data: Buffer.from([1]), isBinary: true });
      assert.equal(await peer.nextText(), "4b");
      peer.ws.close();
    }));

  test("revision 4: a binary frame is the raw bytes, no prefix", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      socket.send(Buffer.from([1, 2, 3]));
      const m = await peer.next();
      assert.equal(m.isBinary, true);
      assert.deepEqual(m.data, Buffer.from([1, 2, 3]));
      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send(Buffer.from([9, 8, 7]));
      assert.deepEqual(await within(got, T, "server message"), Buffer.from([9, 8, 7]));
      peer.ws.close();
    }));

  test("revision 3: a binary frame starts with the message type byte 0x04", () =>
    withEngine({ allowEIO3: true }, async (fx) => {
      const { peer, socket, openText, sid } = await wsSession(fx, "EIO=3&transport=websocket");
      assert.equal(openText, `0{"sid":"${sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
      socket.send(Buffer.from([1, 2, 3]));
      const m = await peer.next();
      assert.equal(m.isBinary, true);
      assert.deepEqual(m.data, Buffer.from([4, 1, 2, 3]));
      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send(Buffer.from([4, 9, 8]));
      assert.deepEqual(await within(got, T, "server message"), Buffer.from([9, 8]));
      // Revision 3 heartbeat: the client pings, the server answers.
      peer.send("2");
      assert.equal(await peer.nextText(), "3");
      peer.ws.close();
    }));

  test("a close frame from the client ends the session with transport close", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const reason = closeReason(socket);
      peer.ws.close();
      assert.equal(await reason, "transport close");
    }));

  test("a close packet 1 over WebSocket ends the session with transport close", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const reason = closeReason(socket);
      let delivered = false;
      socket.on("message", () => (delivered = true));
      peer.send("1");
      peer.send("4after");
      assert.equal(await within(reason, T, "close"), "transport close");
      assert.equal(socket.readyState, "closed");
      assert.equal(delivered, false, "nothing after the close packet is delivered");
      peer.ws.close();
    }));

  test("the server pings with 2 and a pong keeps the session open", () =>
    withEngine({ pingInterval: 50, pingTimeout: 500 }, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      let closed = false;
      socket.once("close", () => (closed = true));
      for (let i = 0; i < 3; i++) {
        assert.equal(await peer.nextText(), "2");
        peer.send("3");
      }
      assert.equal(closed, false);
      const reason = closeReason(socket);
      // No pong this time.
      assert.equal(await peer.nextText(), "2");
      assert.equal(await reason, "ping timeout");
    }));
});

describe("upgrade from polling, by hand", () => {
  test("probe, noop on the pending GET, upgrade, then messages on the WebSocket and polling refused", () =>
    withEngine({}, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const { open } = await handshake(fx.port);
      const socket = await serverSide;
      const sid = open.sid;
      assert.deepEqual(open.upgrades, ["websocket"]);

      const arrived = requestArrived(fx.http, (req) => req.method === "GET" && req.url?.includes(sid) === true);
      const pending = poll(fx.port, sid);
      await arrived;

      const upgrading = new Promise((resolve) => socket.once("upgrading", resolve));
      const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
      const peer = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${sid}`));
      await peer.opened;
      peer.send("2probe");
      assert.equal(await peer.nextText(), "3probe");
      await within(upgrading, T, "upgrading event");
      const released = await pending;
      assert.equal(released.status, 200);
      assert.equal(released.text, "6");
      assert.equal(socket.transport.name, "polling", "not switched before 5");

      peer.send("5");
      await within(upgraded, T, "upgrade event");
      assert.equal(socket.transport.name, "websocket");
      assert.equal(socket.upgraded, true);

      socket.send("after upgrade");
      assert.equal(await peer.nextText(), "4after upgrade");

      const seen = collectConnectionErrors(fx.engine);
      const late = await poll(fx.port, sid);
      seen.stop();
      assert.equal(late.status, 400);
      assert.deepEqual(errorBody(late), { code: 3, message: "Bad request" });
      assert.equal(seen.errors[0].context.name, "TRANSPORT_MISMATCH");
      assert.equal(fx.engine.clientsCount, 1, "a refused poll does not close the upgraded session");

      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send("4still here");
      assert.equal(await within(got, T, "message after upgrade"), "still here");
      peer.ws.close();
    }));

  test("packets buffered while the upgrade is pending go out on the WebSocket, none lost or doubled", () =>
    withEngine({}, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const { open } = await handshake(fx.port);
      const socket = await serverSide;
      const peer = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await peer.opened;
      peer.send("2probe");
      assert.equal(await peer.nextText(), "3probe");
      socket.send("during 1");
      socket.send("during 2");
      const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
      // Nobody polls: the two messages wait in the buffer until the switch.
      peer.send("5");
      await within(upgraded, T, "upgrade event");
      assert.equal(await peer.nextText(), "4during 1");
      assert.equal(await peer.nextText(), "4during 2");
      socket.send("after");
      assert.equal(await peer.nextText(), "4after");
      peer.ws.close();
    }));

  test("a probe WebSocket closed before 5 leaves the session on polling, free to upgrade again", () =>
    withEngine({}, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const { open } = await handshake(fx.port);
      const socket = await serverSide;
      const probing = new Promise<EngineSocket["transport"]>((resolve) => socket.once("upgrading", resolve));
      const first = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await first.opened;
      first.send("2probe");
      assert.equal(await first.nextText(), "3probe");
      const probe = await within(probing, T, "upgrading event");
      const probeClosed = within(new Promise<void>((resolve) => probe.once("close", () => resolve())), T, "probe close");
      first.ws.close();
      await probeClosed;
      assert.equal(socket.upgrading, false);
      assert.equal(socket.transport.name, "polling");
      assert.equal(socket.readyState, "open");

      const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
      const second = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await second.opened;
      second.send("2probe");
      assert.equal(await second.nextText(), "3probe");
      second.send("5");
      await within(upgraded, T, "upgrade event");
      assert.equal(socket.transport.name, "websocket");
      socket.send("on the second");
      assert.equal(await second.nextText(), "4on the second");
      second.ws.close();
    }));

  test("an upgrade without 5 is dropped after upgradeTimeout and polling goes on", () =>
    withEngine({ upgradeTimeout: 150 }, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const { open } = await handshake(fx.port);
      const socket = await serverSide;
      const peer = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await peer.opened;
      const start = Date.now();
      peer.send("2probe");
      assert.equal(await peer.nextText(), "3probe");
      await peer.waitClosed();
      assert.ok(Date.now() - start >= 100, "dropped only after upgradeTimeout");
      assert.equal(socket.transport.name, "polling");
      assert.equal(socket.upgrading, false);
      assert.equal(socket.readyState, "open");
      socket.send("still polling");
      const res = await poll(fx.port, open.sid);
      assert.equal(res.text, "4still polling");
    }));

  test("a second upgrade while one is in progress is closed at once", () =>
    withEngine({}, async (fx) => {
      const serverSide = nextSocket(fx.engine);
      const { open } = await handshake(fx.port);
      await serverSide;
      const first = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await first.opened;
      first.send("2probe");
      assert.equal(await first.nextText(), "3probe");
      const second = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      await second.waitClosed();
      first.ws.close();
    }));

  test("a session opened over WebSocket cannot be upgraded again", () =>
    withEngine({}, async (fx) => {
      const { peer, sid } = await wsSession(fx);
      const again = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${sid}`));
      await again.waitClosed();
      assert.equal(fx.engine.clientsCount, 1);
      peer.ws.close();
    }));
});

describe("refused upgrades (raw socket)", () => {
  interface UpgradeRefusal {
    name: string;
    query: string;
    opts?: ServerOptions;
    status: number;
    reason: string;
    body: { code: number; message: string };
  }
  const cases: UpgradeRefusal[] = [
    { name: "unknown sid", query: "EIO=4&transport=websocket&sid=nope", status: 400, reason: "Bad Request", body: { code: 1, message: "Session ID unknown" } },
    { name: "unknown transport", query: "EIO=4&transport=foo", status: 400, reason: "Bad Request", body: { code: 0, message: "Transport unknown" } },
    { name: "bad EIO", query: "EIO=7&transport=websocket", status: 400, reason: "Bad Request", body: { code: 5, message: "Unsupported protocol version" } },
    { name: "polling handshake as an upgrade", query: "EIO=4&transport=polling", status: 400, reason: "Bad Request", body: { code: 3, message: "Bad request" } },
    {
      name: "allowRequest refusal",
      query: "EIO=4&transport=websocket",
      opts: { allowRequest: (_req, fn) => fn("not you", false) },
      status: 403,
      reason: "Forbidden",
      body: { code: 4, message: "not you" },
    },
  ];

  for (const c of cases) {
    test(`${c.name} → ${c.status} with the JSON body, then the socket is closed`, () =>
      withEngine(c.opts ?? {}, async (fx) => {
        const seen = collectConnectionErrors(fx.engine);
        const raw = await RawWebSocket.open(fx.port, `${ENGINE_PATH}?${c.query}`);
        const body = await raw.bodyUntilClose();
        seen.stop();
        const json = JSON.stringify(c.body);
        assert.equal(raw.statusLine, `HTTP/1.1 ${c.status} ${c.reason}`);
        assert.equal(
          raw.head,
          `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}`,
        );
        assert.equal(body.toString(), json);
        assert.equal(seen.errors.length, 1);
        assert.equal(seen.errors[0].code, c.body.code);
        assert.equal(fx.engine.clientsCount, 0);
      }));
  }
});

describe("limits and options", () => {
  test("a message above maxHttpBufferSize closes the session (1009)", () =>
    withEngine({ maxHttpBufferSize: 100 }, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const reason = closeReason(socket);
      peer.send("4" + "a".repeat(200));
      assert.equal((await peer.waitClosed()).code, 1009);
      assert.equal(await reason, "transport error");
    }));

  test("a message at maxHttpBufferSize is delivered", () =>
    withEngine({ maxHttpBufferSize: 100 }, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send("4" + "a".repeat(99));
      assert.equal(await within(got, T, "message"), "a".repeat(99));
      peer.ws.close();
    }));

  test("perMessageDeflate: off by default even when the client offers it", () =>
    withEngine({}, async (fx) => {
      const { peer } = await wsSession(fx, "EIO=4&transport=websocket", { perMessageDeflate: true });
      const res = await peer.upgradeResponse;
      assert.equal(res.headers["sec-websocket-extensions"], undefined);
      assert.equal(peer.ws.extensions, "");
      peer.ws.close();
    }));

  test("perMessageDeflate: negotiated when enabled, large messages compressed", () =>
    withEngine({ perMessageDeflate: true }, async (fx) => {
      const { peer, socket } = await wsSession(fx, "EIO=4&transport=websocket", { perMessageDeflate: true });
      const res = await peer.upgradeResponse;
      assert.match(String(res.headers["sec-websocket-extensions"]), /^permessage-deflate/);
      assert.match(peer.ws.extensions, /^permessage-deflate/);
      const raw = (peer.ws as unknown as { _socket: { bytesRead: number } })._socket;
      const before = raw.bytesRead;
      socket.send("z".repeat(10000));
      assert.equal(await peer.nextText(), "4" + "z".repeat(10000));
      assert.ok(raw.bytesRead - before < 1000, `compressed on the wire (${raw.bytesRead - before} bytes)`);
      // Small messages stay below the threshold and still arrive.
      socket.send("small");
      assert.equal(await peer.nextText(), "4small");
      const got = new Promise<unknown>((resolve) => socket.once("message", resolve));
      peer.send("4" + "y".repeat(5000));
      assert.equal(await within(got, T, "compressed message from the client"), "y".repeat(5000));
      peer.ws.close();
    }));

  test("a ping 2 from a revision 4 client closes the session with transport error", () =>
    withEngine({}, async (fx) => {
      const { peer, socket } = await wsSession(fx);
      const reason = closeReason(socket);
      peer.send("2");
      assert.equal(await reason, "transport error");
      await peer.waitClosed();
    }));
});

describe("headers and cookies on the 101 response", () => {
  test("initial_headers and headers add headers to a direct handshake; only headers to an upgrade", () =>
    withEngine({}, async (fx) => {
      const initialSeen: string[] = [];
      fx.engine.on("initial_headers", (headers: OutgoingHttpHeaders, req: IncomingMessage) => {
        headers["X-Initial"] = "1";
        initialSeen.push(req.url ?? "");
      });
      fx.engine.on("headers", (headers: OutgoingHttpHeaders) => {
        headers["X-Every"] = "yes";
      });
      const { peer } = await wsSession(fx);
      const direct = await peer.upgradeResponse;
      assert.equal(direct.headers["x-initial"], "1");
      assert.equal(direct.headers["x-every"], "yes");
      assert.deepEqual(initialSeen, [`${ENGINE_PATH}?EIO=4&transport=websocket`]);
      peer.ws.close();

      const { open } = await handshake(fx.port);
      const upgrade = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      const res = await upgrade.upgradeResponse;
      assert.equal(res.headers["x-initial"], undefined);
      assert.equal(res.headers["x-every"], "yes");
      upgrade.ws.close();
    }));

  // upstream engine.io server.js "should emit a 'initial_headers' event (websocket)": engine.io sets
  // its cookie on polling responses only, so a 101 carries just what listeners set.
  test("cookie: true sets no cookie on a WebSocket handshake nor an upgrade; initial_headers' own does", () =>
    withEngine({ cookie: true }, async (fx) => {
      fx.engine.once("initial_headers", (headers: OutgoingHttpHeaders) => {
        headers["set-cookie"] = "mycookie=456";
      });
      const { peer } = await wsSession(fx);
      const res = await peer.upgradeResponse;
      assert.deepEqual(res.headers["set-cookie"], ["mycookie=456"]);
      peer.ws.close();

      const { open } = await handshake(fx.port);
      const upgrade = new WsPeer(wsUrl(fx, `EIO=4&transport=websocket&sid=${open.sid}`));
      const upgradeRes = await upgrade.upgradeResponse;
      assert.equal(upgradeRes.headers["set-cookie"], undefined);
      upgrade.ws.close();
    }));

  test("middlewares run for upgrades and their headers reach the 101", () =>
    withEngine({}, async (fx) => {
      fx.engine.use((_req, res, next) => {
        res.setHeader("X-Mw", "ws");
        next();
      });
      const { peer } = await wsSession(fx);
      assert.equal((await peer.upgradeResponse).headers["x-mw"], "ws");
      peer.ws.close();
    }));
});
