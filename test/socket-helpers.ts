import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { TestContext } from "node:test";
import type { AddressInfo } from "node:net";
import { io as connect, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { Server, type ServerOptions } from "../src/index";
import { request, type RawResponse, type RequestOptions } from "./engine/raw-util";

export const IO_PATH = "/socket.io/";

export interface IoFixture {
  io: Server;
  http: HttpServer;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:1234 */
  url: string;
  /** A socket.io-client connected to `nsp` (not awaited); closed by `close()`. */
  client(nsp?: string, opts?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  close(): Promise<void>;
}

/** A Volley Socket.IO server on `http` (a fresh HTTP server by default), on a random loopback port. */
export async function startIo(opts: Partial<ServerOptions> = {}, http: HttpServer = createServer()): Promise<IoFixture> {
  const io = new Server(http, opts);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  return {
    io,
    http,
    port,
    url,
    client(nsp = "/", clientOpts = {}) {
      const socket = connect(url + nsp, { forceNew: true, reconnection: false, ...clientOpts });
      clients.push(socket);
      return socket;
    },
    close: async () => {
      for (const c of clients) c.disconnect();
      http.closeAllConnections();
      await io.close();
    },
  };
}

/** A server for one test: closed, with its `client()` sockets, when the test ends. */
export async function ioForTest(t: TestContext, opts: Partial<ServerOptions> = {}): Promise<IoFixture> {
  const fx = await startIo(opts);
  t.after(() => fx.close());
  return fx;
}

/** Resolves once `socket` is connected; rejects with its `connect_error`. */
export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
}

// ---- raw Engine.IO polling on the Socket.IO path ----

export function ioRequest(fx: IoFixture, query: string, opts: RequestOptions = {}): Promise<RawResponse> {
  return request(fx.port, `${IO_PATH}?${query}`, opts);
}

/** A revision 4 polling session; resolves with its sid. */
export async function pollingSession(fx: IoFixture): Promise<string> {
  const res = await ioRequest(fx, "EIO=4&transport=polling");
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text.slice(1)) as { sid: string }).sid;
}

export function pollingPost(fx: IoFixture, sid: string, body: string): Promise<RawResponse> {
  return ioRequest(fx, `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
    body,
  });
}

export function pollingGet(fx: IoFixture, sid: string): Promise<RawResponse> {
  return ioRequest(fx, `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
}
