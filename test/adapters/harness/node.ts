/**
 * One Socket.IO server of a cluster under test, Volley or official socket.io 4.8, driven
 * through `NodeHandle`: the same calls whether the server runs in this process
 * (`LocalNode`) or in a child process (`ChildNode`, see child-node.ts).
 *
 * Every node is set up the same way: a client names itself in `auth.name`; on connection
 * its socket gets `data = { name, node }` and joins `node-<index>` and `a` or `b` (the last
 * letter of its name). Server-side events `sse` (recorded) and `sse-ack` (answered with
 * `{ node }`) let the tests see `serverSideEmit` arrive.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as OfficialServer } from "socket.io";
import { Server as VolleyServer, type ServerOptions, type Socket } from "../../../src/index";

export type Kind = "volley" | "official";

/** Which sockets an operation targets, as `io.to(rooms).except(except)` (or `.local`). */
export interface Target {
  rooms?: string[];
  except?: string[];
  local?: boolean;
}

export interface SocketInfo {
  id: string;
  name: string;
  node: number;
  rooms: string[];
  auth: unknown;
  /** Whether fetchSockets returned the Socket itself (same node) rather than a RemoteSocket. */
  local: boolean;
  hasHandshakeHeaders: boolean;
}

export interface AckResult {
  error: string | null;
  responses: unknown[];
}

export type RemoteAction =
  | { type: "emit"; event: string; args: unknown[] }
  | { type: "emitWithAck"; event: string; timeout: number }
  | { type: "join"; room: string }
  | { type: "leave"; room: string }
  | { type: "disconnect"; close: boolean };

export type LogEntry =
  | { kind: "join-room" | "leave-room"; room: string; id: string }
  | { kind: "sse"; tag: string; args: unknown[] };

/** What a node saw: room changes in its adapter and server-side events. Waitable. */
export class NodeLog {
  readonly entries: LogEntry[] = [];
  private waiters: Array<{ match: (e: LogEntry) => boolean; resolve: () => void }> = [];

  add(entry: LogEntry): void {
    this.entries.push(entry);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(entry)) return true;
      w.resolve();
      return false;
    });
  }

  waitFor(match: (e: LogEntry) => boolean): Promise<void> {
    if (this.entries.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  count(match: (e: LogEntry) => boolean): number {
    return this.entries.filter(match).length;
  }

  roomEvent(kind: "join-room" | "leave-room", room: string, id: string): Promise<void> {
    return this.waitFor((e) => e.kind === kind && e.room === room && e.id === id);
  }

  serverSide(tag: string): Promise<void> {
    return this.waitFor((e) => e.kind === "sse" && e.tag === tag);
  }

  serverSideCount(tag: string): number {
    return this.count((e) => e.kind === "sse" && e.tag === tag);
  }
}

export interface NodeHandle {
  readonly index: number;
  readonly kind: Kind;
  /** Where clients connect. */
  readonly url: string;
  readonly log: NodeLog;
  serverCount(): Promise<number>;
  /** Names of the clients connected to this node. */
  localNames(): Promise<string[]>;
  emit(target: Target, event: string, args: unknown[]): Promise<void>;
  /** Broadcast with an acknowledgement: the callback form, or `emitWithAck` (Promise) form. */
  emitWithAck(target: Target, timeout: number, event: string, args: unknown[], style?: "callback" | "promise"): Promise<AckResult>;
  /** `socket.broadcast` / `socket.to(...)` from the local socket of client `from`. */
  socketEmit(from: string, target: Target, event: string, args: unknown[]): Promise<void>;
  fetchSockets(target: Target): Promise<SocketInfo[]>;
  /** Fetches socket `id` (anywhere in the cluster) and acts on it. */
  remote(id: string, action: RemoteAction): Promise<unknown>;
  socketsJoin(target: Target, rooms: string[]): Promise<void>;
  socketsLeave(target: Target, rooms: string[]): Promise<void>;
  disconnectSockets(target: Target, close: boolean): Promise<void>;
  serverSideEmit(tag: string, args: unknown[]): Promise<void>;
  serverSideEmitWithAck(tag: string): Promise<AckResult>;
  close(): Promise<void>;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyOperator = any;

/** A node whose server lives in this process. */
export class LocalNode implements NodeHandle {
  readonly log = new NodeLog();
  /** Server-side sockets by client name. */
  readonly sockets = new Map<string, Socket>();

  constructor(
    readonly index: number,
    readonly kind: Kind,
    /** Typed as Volley's Server; an official server has the same API. */
    readonly io: VolleyServer,
    readonly url: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    const adapter = io.of("/").adapter;
    adapter.on("join-room", (room: string, id: string) => this.log.add({ kind: "join-room", room, id }));
    adapter.on("leave-room", (room: string, id: string) => this.log.add({ kind: "leave-room", room, id }));
    io.on("connection", (socket: Socket) => {
      const name = String(socket.handshake.auth.name);
      this.sockets.set(name, socket);
      // A socket recovered by connection state recovery keeps the data and rooms it had.
      if (!socket.recovered) {
        socket.data = { name, node: index };
        void socket.join([`node-${index}`, name.endsWith("a") ? "a" : "b"]);
      }
      socket.on("disconnect", () => {
        if (this.sockets.get(name) === socket) this.sockets.delete(name);
      });
    });
    const ns = io.of("/") as unknown as { on(ev: string, fn: (...args: any[]) => void): unknown };
    ns.on("sse", (tag: string, ...args: unknown[]) => this.log.add({ kind: "sse", tag, args }));
    ns.on("sse-ack", (tag: string, ack: (answer: unknown) => void) => {
      this.log.add({ kind: "sse", tag, args: [] });
      ack({ node: index });
    });
  }

  private operator(target: Target): AnyOperator {
    let op: AnyOperator = this.io.of("/").to(target.rooms ?? []);
    if (target.except) op = op.except(target.except);
    if (target.local) op = op.local;
    return op;
  }

  serverCount(): Promise<number> {
    return this.io.of("/").adapter.serverCount();
  }

  async localNames(): Promise<string[]> {
    return [...this.sockets.keys()].sort();
  }

  async emit(target: Target, event: string, args: unknown[]): Promise<void> {
    this.operator(target).emit(event, ...args);
  }

  emitWithAck(target: Target, timeout: number, event: string, args: unknown[], style: "callback" | "promise" = "callback"): Promise<AckResult> {
    const op = this.operator(target).timeout(timeout);
    if (style === "promise") {
      return op.emitWithAck(event, ...args).then(
        (responses: unknown[]) => ({ error: null, responses }),
        (err: Error & { responses?: unknown[] }) => ({ error: err.message, responses: err.responses ?? [] }),
      );
    }
    return new Promise((resolve) => {
      op.emit(event, ...args, (err: Error | null, responses: unknown[]) => resolve({ error: err ? err.message : null, responses }));
    });
  }

  async socketEmit(from: string, target: Target, event: string, args: unknown[]): Promise<void> {
    const socket = this.sockets.get(from);
    if (!socket) throw new Error(`no local socket for ${from} on node ${this.index}`);
    let op: AnyOperator = target.rooms ? socket.to(target.rooms) : socket.broadcast;
    if (target.except) op = op.except(target.except);
    op.emit(event, ...args);
  }

  async fetchSockets(target: Target): Promise<SocketInfo[]> {
    const sockets: AnyOperator[] = await this.operator(target).fetchSockets();
    return sockets.map((s) => ({
      id: s.id,
      name: s.data.name,
      node: s.data.node,
      rooms: [...s.rooms].sort(),
      auth: s.handshake.auth,
      local: s.data.node === this.index && this.sockets.get(s.data.name) === s,
      hasHandshakeHeaders: typeof s.handshake.headers === "object" && s.handshake.headers !== null,
    }));
  }

  async remote(id: string, action: RemoteAction): Promise<unknown> {
    const sockets: AnyOperator[] = await this.io.of("/").fetchSockets();
    const socket = sockets.find((s) => s.id === id);
    if (!socket) throw new Error(`socket ${id} not found from node ${this.index}`);
    switch (action.type) {
      case "emit":
        return socket.emit(action.event, ...action.args);
      case "emitWithAck":
        return socket.timeout(action.timeout).emitWithAck(action.event);
      case "join":
        return socket.join(action.room);
      case "leave":
        return socket.leave(action.room);
      case "disconnect":
        socket.disconnect(action.close);
        return undefined;
    }
  }

  async socketsJoin(target: Target, rooms: string[]): Promise<void> {
    this.operator(target).socketsJoin(rooms);
  }

  async socketsLeave(target: Target, rooms: string[]): Promise<void> {
    this.operator(target).socketsLeave(rooms);
  }

  async disconnectSockets(target: Target, close: boolean): Promise<void> {
    this.operator(target).disconnectSockets(close);
  }

  async serverSideEmit(tag: string, args: unknown[]): Promise<void> {
    (this.io as AnyOperator).serverSideEmit("sse", tag, ...args);
  }

  serverSideEmitWithAck(tag: string): Promise<AckResult> {
    return (this.io as AnyOperator).serverSideEmitWithAck("sse-ack", tag).then(
      (responses: unknown[]) => ({ error: null, responses }),
      (err: Error & { responses?: unknown[] }) => ({ error: err.message, responses: err.responses ?? [] }),
    );
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** Starts a Volley or official server with `opts` (e.g. `{ adapter }`) on a loopback port. */
export async function startNode(kind: Kind, index: number, opts: Partial<ServerOptions>): Promise<LocalNode> {
  const http: HttpServer = createServer();
  const io =
    kind === "volley"
      ? new VolleyServer(http, { serveClient: false, ...opts })
      : (new OfficialServer(http, { serveClient: false, ...(opts as object) }) as unknown as VolleyServer);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return new LocalNode(index, kind, io, url, async () => {
    http.closeAllConnections();
    await io.close();
  });
}
