/**
 * Attaching the engine to an HTTP server: other paths and other upgrade handlers keep
 * working, unanswered upgrades are cleaned up, and the engine works without attach.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { T, within, quiet, withEngine } from "../helpers";
import { Server, listen, attach } from "../../src/engine/index";
import { ENGINE_PATH, RawWebSocket, closeReason, handshake, nextSocket, request } from "./raw-util";

/** Opens a `ws` client and resolves with its first message (the engine's open packet). */
function firstMessage(url: string): Promise<{ ws: WebSocket; text: string }> {
  const ws = new WebSocket(url);
  ws.on("error", () => {});
  return within(
    new Promise((resolve, reject) => {
      ws.once("message", (data: Buffer) => resolve({ ws, text: data.toString() }));
      ws.once("close", () => reject(new Error("closed before a message")));
    }),
    T,
    "first websocket message",
  );
}

function hello(): HttpServer {
  return createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`hello from ${req.url}`);
  });
}

describe("attach", () => {
  test("the server's own request listener still answers other paths", () =>
    withEngine({}, async (fx) => {
      const res = await request(fx.port, "/hello");
      assert.equal(res.status, 200);
      assert.equal(res.text, "hello from /hello");
      const { open } = await handshake(fx.port);
      assert.equal(typeof open.sid, "string");
      // Only the engine answered the engine path: the old listener did not also write to it.
      assert.equal(fx.http.listenerCount("request"), 1);
    }, hello()));

  test("the path option; a path given with a trailing slash means the same", async () => {
    for (const path of ["/custom", "/custom/"]) {
      await withEngine({ path }, async (fx) => {
        const ok = await request(fx.port, "/custom/?EIO=4&transport=polling");
        assert.equal(ok.status, 200);
        assert.ok(ok.text.startsWith('0{"sid":'));
        const other = await request(fx.port, `${ENGINE_PATH}?EIO=4&transport=polling`);
        assert.equal(other.text, `hello from ${ENGINE_PATH}?EIO=4&transport=polling`);
        // Without addTrailingSlash: false, the bare path belongs to the application.
        const bare = await request(fx.port, "/custom?EIO=4&transport=polling");
        assert.equal(bare.text, "hello from /custom?EIO=4&transport=polling");
      }, hello());
    }
  });

  test("addTrailingSlash: false serves /path?… and /path/… but not /pathx", () =>
    withEngine({ path: "/custom", addTrailingSlash: false }, async (fx) => {
      for (const url of ["/custom?EIO=4&transport=polling", "/custom/?EIO=4&transport=polling"]) {
        const res = await request(fx.port, url);
        assert.equal(res.status, 200, url);
        assert.ok(res.text.startsWith('0{"sid":'), url);
      }
      const other = await request(fx.port, "/customx?EIO=4&transport=polling");
      assert.equal(other.text, "hello from /customx?EIO=4&transport=polling");
      const { ws, text } = await firstMessage(`ws://127.0.0.1:${fx.port}/custom?EIO=4&transport=websocket`);
      assert.ok(text.startsWith('0{"sid":'));
      ws.close();
    }, hello()));

  test("another upgrade handler (ws noServer on /other) keeps working next to the engine", async () => {
    const http = createServer();
    const other = new WebSocketServer({ noServer: true });
    other.on("connection", (ws) => ws.on("message", (data: Buffer) => ws.send(`echo:${data.toString()}`)));
    http.on("upgrade", (req, socket: Duplex, head: Buffer) => {
      if (req.url === "/other") other.handleUpgrade(req, socket, head, (ws) => other.emit("connection", ws, req));
    });
    await withEngine({ destroyUpgradeTimeout: 100 }, async (fx) => {
      const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/other`);
      await within(new Promise((resolve) => ws.once("open", resolve)), T, "open /other");
      ws.send("ping");
      const [reply] = await within(
        new Promise<[Buffer]>((resolve) => ws.once("message", (d: Buffer) => resolve([d]))),
        T,
        "echo",
      );
      assert.equal(reply.toString(), "echo:ping");
      // Still open after destroyUpgradeTimeout: the engine left an answered upgrade alone.
      await quiet(200);
      assert.equal(ws.readyState, WebSocket.OPEN);
      const engineWs = await firstMessage(`ws://127.0.0.1:${fx.port}${ENGINE_PATH}?EIO=4&transport=websocket`);
      assert.ok(engineWs.text.startsWith('0{"sid":'));
      engineWs.ws.close();
      ws.close();
      other.close();
    }, http);
  });

  test("an unanswered upgrade on another path is ended after destroyUpgradeTimeout", () =>
    withEngine({ destroyUpgradeTimeout: 150 }, async (fx) => {
      const start = Date.now();
      const raw = await RawWebSocket.open(fx.port, "/nobody").catch((err: Error) => err);
      // The server writes nothing and ends the socket: no response head ever arrives.
      assert.ok(raw instanceof Error);
      assert.match(raw.message, /closed before a response/);
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 120 && elapsed < 2000, `ended after ${elapsed} ms`);
    }));

  test("destroyUpgrade: false leaves an unanswered upgrade alone", () =>
    withEngine({ destroyUpgrade: false, destroyUpgradeTimeout: 50 }, async (fx) => {
      let serverSide: Duplex | undefined;
      fx.http.on("upgrade", (_req, socket: Duplex) => (serverSide = socket));
      const closed = { value: false };
      const pending = RawWebSocket.open(fx.port, "/nobody").catch(() => {
        closed.value = true;
      });
      // Proving a non-event: wait well past the timeout.
      await quiet(300);
      assert.equal(closed.value, false);
      assert.ok(serverSide && !serverSide.destroyed);
      // An upgraded socket is no longer the HTTP server's to close: whoever took it must.
      serverSide.destroy();
      await within(pending, T, "client side close");
    }));

  test("only polling: no upgrade listener is added", () =>
    withEngine({ transports: ["polling"] }, async (fx) => {
      assert.equal(fx.http.listenerCount("upgrade"), 0);
    }));

  test("engine.close() runs when the HTTP server closes", async () => {
    const http = createServer();
    const engine = attach(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    const serverSide = nextSocket(engine);
    await handshake(port);
    const socket = await serverSide;
    const reason = closeReason(socket);
    await within(new Promise<void>((resolve) => http.close(() => resolve())), T, "http close");
    assert.equal(await reason, "forced close");
    assert.equal(engine.clientsCount, 0);
  });
});

describe("without attach", () => {
  test("handleRequest and handleUpgrade on any path", async () => {
    const engine = new Server();
    const http = createServer((req, res) => engine.handleRequest(req, res));
    http.on("upgrade", (req, socket: Duplex, head: Buffer) => engine.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    try {
      const res = await request(port, "/anywhere?EIO=4&transport=polling");
      assert.equal(res.status, 200);
      assert.ok(res.text.startsWith('0{"sid":'));
      const refused = await request(port, "/anywhere?EIO=4&transport=nope");
      assert.equal(refused.status, 400);
      const { ws, text } = await firstMessage(`ws://127.0.0.1:${port}/elsewhere?EIO=4&transport=websocket`);
      assert.ok(text.startsWith('0{"sid":'));
      assert.equal(engine.clientsCount, 2);
      ws.close();
    } finally {
      engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  test("listen(port) serves the engine and answers 501 elsewhere", async () => {
    const engine = await new Promise<Server>((resolve) => {
      const e = listen(0, {}, () => resolve(e));
    });
    const http = engine.httpServer as HttpServer;
    const port = (http.address() as AddressInfo).port;
    try {
      const other = await request(port, "/other");
      assert.equal(other.status, 501);
      const { open } = await handshake(port);
      assert.equal(typeof open.sid, "string");
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    assert.equal(engine.clientsCount, 0, "closing the HTTP server closed the engine");
  });
});
