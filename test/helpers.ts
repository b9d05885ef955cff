import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { Server, type AttachOptions, type ServerOptions } from "../src/engine/index";

/**
 * How long a test waits for something that must happen (an event, a reply, a close) before
 * it fails with a named timeout: far above what a loaded 2-core box needs, far below the
 * runner's 60 s per-test limit, so that a missing event names itself.
 */
export const T = 5000;

export interface EngineFixture {
  engine: Server;
  http: HttpServer;
  port: number;
  /** Base URL, e.g. http://localhost:1234 */
  url: string;
  close(): Promise<void>;
}

/** An engine attached to a fresh HTTP server on a random loopback port. */
export async function startEngine(opts: ServerOptions & AttachOptions = {}, http: HttpServer = createServer()): Promise<EngineFixture> {
  const engine = new Server(opts);
  engine.attach(http, opts);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    engine,
    http,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Something to undo after a test body, whether it passed or not. */
export type Cleanup = () => unknown;

/**
 * Runs `fn` against a fresh engine (on `http`, a new server by default) and closes it
 * afterwards, pass or fail, after the cleanups `fn` registered with `defer` (last first).
 */
export async function withEngine(
  opts: ServerOptions & AttachOptions,
  fn: (fx: EngineFixture, defer: (cleanup: Cleanup) => void) => Promise<void>,
  http: HttpServer = createServer(),
): Promise<void> {
  const fx = await startEngine(opts, http);
  const cleanups: Cleanup[] = [];
  try {
    await fn(fx, (c) => cleanups.push(c));
  } finally {
    for (const c of cleanups.reverse()) await c();
    await fx.close();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

/** Resolves with the arguments of the next `event` on any emitter (Node's or a client's). */
export function once<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, fn: Listener): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** The bytes of whatever binary form a peer handed over (Buffer, ArrayBuffer or a view). */
export function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`expected binary data, got ${typeof data}`);
}

/** Rejects after `ms` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * A bounded pause, only to show that something does NOT happen meanwhile. Never a way to
 * wait for something that happens: wait for its event (or `until` its state) instead.
 */
export function quiet(ms: number): Promise<void> {
  return delay(ms);
}

/**
 * Polls `check` every 10 ms until it holds, for state that changes without an event
 * (handles released, a count kept in Redis or on other nodes); rejects after `ms`.
 */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await delay(10);
  }
}

/**
 * An observation as the differential matrices compare it: binary as the clients and servers
 * hand it (Buffer, ArrayBuffer, views) as "bin:<hex>", errors as their message and data.
 */
export function show(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return "bin:" + value.toString("hex");
  if (value instanceof ArrayBuffer) return "bin:" + Buffer.from(value).toString("hex");
  if (ArrayBuffer.isView(value)) return "bin:" + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
  if (Array.isArray(value)) return value.map(show);
  if (value instanceof Error) return { error: value.message, data: show((value as { data?: unknown }).data) };
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]));
  return value;
}
