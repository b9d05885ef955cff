/**
 * Shared pieces of the core API tests (connection, emit-ack, rooms-broadcast): the
 * transport modes every scenario runs over, and small waits built on events.
 */
import type { Socket as ClientSocket } from "socket.io-client";
import type { Socket } from "../../src/index";
import type { IoFixture } from "../socket-helpers";
import { T, once, within } from "../helpers";

export interface Mode {
  name: string;
  transports: Array<"polling" | "websocket">;
  /** Wait for the polling → WebSocket upgrade before the test goes on. */
  upgrade?: boolean;
}

export const WEBSOCKET: Mode = { name: "websocket", transports: ["websocket"] };
export const POLLING: Mode = { name: "polling", transports: ["polling"] };
/** The client's default: starts with polling and upgrades. */
export const UPGRADE: Mode = { name: "polling→websocket", transports: ["polling", "websocket"], upgrade: true };

/** WebSocket only and polling only: every scenario runs over both. */
export const MODES: readonly Mode[] = [WEBSOCKET, POLLING];

export interface Pair {
  client: ClientSocket;
  socket: Socket;
}

/**
 * Connects a client in `mode` and resolves with it and its server-side socket (matched by
 * id, so several connections in flight cannot be mixed up).
 */
export async function connectPair(fx: IoFixture, mode: Mode, opts: Parameters<IoFixture["client"]>[1] = {}, nsp = "/"): Promise<Pair> {
  const namespace = fx.io.of(nsp);
  const sockets = new Map<string, Socket>();
  const onConnection = (s: Socket) => sockets.set(s.id, s);
  namespace.on("connection", onConnection);
  try {
    const client = fx.client(nsp, { transports: mode.transports, ...opts });
    await within(once(client, "connect"), T, `${mode.name} connect`);
    const socket = sockets.get(client.id as string) ?? namespace.sockets.get(client.id as string);
    if (!socket) throw new Error(`no server socket for ${client.id}`);
    if (mode.upgrade) {
      // Both ends must have switched: the client first, then the server on its "upgrade" packet.
      if (client.io.engine.transport.name !== "websocket") await within(once(client.io.engine, "upgrade"), T, "client upgrade");
      if (!socket.conn.upgraded) await within(once(socket.conn, "upgrade"), T, "server upgrade");
    }
    return { client, socket };
  } finally {
    namespace.off("connection", onConnection);
  }
}

/** Resolves with the arguments of the next `count` events (each call's arguments as an array). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export function collect<T extends unknown[] = unknown[]>(
  emitter: { on(event: string, fn: Listener): unknown },
  event: string,
  count: number,
): Promise<T[]> {
  const seen: T[] = [];
  return new Promise((resolve) => {
    emitter.on(event, (...args: unknown[]) => {
      seen.push(args as T);
      if (seen.length === count) resolve(seen);
    });
  });
}

/** The bytes of any binary value, for comparisons (Node clients receive Buffers). */
export function bytes(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`not binary: ${Object.prototype.toString.call(value)}`);
}

/**
 * A round trip through the server and back, so that everything the client sent before
 * has been processed by the server (one connection keeps order).
 */
export async function roundTrip(client: ClientSocket, socket: Socket): Promise<void> {
  const ev = `__sync${Math.random()}`;
  socket.once(ev, (ack: () => void) => ack());
  await within(client.timeout(T).emitWithAck(ev), T + 100, "round trip");
}
