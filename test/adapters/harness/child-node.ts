/**
 * Nodes in other processes. The child runs a `LocalNode` and serves its `NodeHandle`
 * methods over the IPC channel (`serveNode`); the parent drives it through `ChildNode`,
 * which mirrors the child's log. Works over a `child_process.fork` channel and over a
 * Node `cluster` worker alike. Messages carry a `vt` field so that the adapters' own IPC
 * traffic (cluster adapter, sticky sessions) is left alone.
 */
import type { NodeHandle, Kind, LogEntry, Target, RemoteAction, AckResult, SocketInfo, LocalNode } from "./node";
import { NodeLog } from "./node";

interface RpcCall {
  vt: "call";
  id: number;
  method: keyof NodeHandle;
  args: unknown[];
}
interface RpcReply {
  vt: "reply";
  id: number;
  result?: unknown;
  error?: string;
}
interface RpcLog {
  vt: "log";
  entry: LogEntry;
}
/** Sent once by the child when its node listens. */
export interface RpcReady {
  vt: "ready";
  index: number;
  kind: Kind;
  url: string;
}
type RpcMessage = RpcCall | RpcReply | RpcLog | RpcReady;

/** The IPC end of a forked child or a cluster worker, as seen from the parent. */
export interface Channel {
  send(message: unknown): unknown;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

function isRpc(message: unknown): message is RpcMessage {
  return typeof message === "object" && message !== null && typeof (message as { vt?: unknown }).vt === "string";
}

// ---- in the child ----

const CALLABLE = new Set<string>([
  "serverCount",
  "localNames",
  "emit",
  "emitWithAck",
  "socketEmit",
  "fetchSockets",
  "remote",
  "socketsJoin",
  "socketsLeave",
  "disconnectSockets",
  "serverSideEmit",
  "serverSideEmitWithAck",
  "close",
]);

/** Serves `node` to the parent process; sends `ready` first. */
export function serveNode(node: LocalNode): void {
  const send = (message: RpcMessage) => process.send?.(message);
  const log = node.log;
  const add = log.add.bind(log);
  log.add = (entry: LogEntry) => {
    add(entry);
    send({ vt: "log", entry });
  };
  process.on("message", (message: unknown) => {
    if (!isRpc(message) || message.vt !== "call") return;
    const { id, method, args } = message;
    if (!CALLABLE.has(method)) {
      send({ vt: "reply", id, error: `unknown method ${String(method)}` });
      return;
    }
    const fn = node[method] as (...a: unknown[]) => Promise<unknown>;
    Promise.resolve()
      .then(() => fn.apply(node, args))
      .then(
        (result) => send({ vt: "reply", id, result: result === undefined ? null : result }),
        (err: Error) => send({ vt: "reply", id, error: String(err?.message ?? err) }),
      );
  });
  send({ vt: "ready", index: node.index, kind: node.kind, url: node.url });
}

// ---- in the parent ----

/** Resolves with the child's `ready` message. */
export function readyMessage(channel: Channel): Promise<RpcReady> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isRpc(message) || message.vt !== "ready") return;
      channel.off("message", onMessage);
      resolve(message);
    };
    channel.on("message", onMessage);
  });
}

export class ChildNode implements NodeHandle {
  readonly log = new NodeLog();
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly onMessage = (message: unknown) => {
    if (!isRpc(message)) return;
    if (message.vt === "log") this.log.add(message.entry);
    if (message.vt !== "reply") return;
    const call = this.pending.get(message.id);
    if (!call) return;
    this.pending.delete(message.id);
    if (message.error !== undefined) call.reject(new Error(`node ${this.index}: ${message.error}`));
    else call.resolve(message.result);
  };

  constructor(
    private readonly channel: Channel,
    readonly index: number,
    readonly kind: Kind,
    readonly url: string,
  ) {
    channel.on("message", this.onMessage);
  }

  private call<T>(method: keyof NodeHandle, ...args: unknown[]): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send({ vt: "call", id, method, args } satisfies RpcCall);
    });
  }

  serverCount(): Promise<number> {
    return this.call("serverCount");
  }
  localNames(): Promise<string[]> {
    return this.call("localNames");
  }
  emit(target: Target, event: string, args: unknown[]): Promise<void> {
    return this.call("emit", target, event, args);
  }
  emitWithAck(target: Target, timeout: number, event: string, args: unknown[], style?: "callback" | "promise"): Promise<AckResult> {
    return this.call("emitWithAck", target, timeout, event, args, style);
  }
  socketEmit(from: string, target: Target, event: string, args: unknown[]): Promise<void> {
    return this.call("socketEmit", from, target, event, args);
  }
  fetchSockets(target: Target): Promise<SocketInfo[]> {
    return this.call("fetchSockets", target);
  }
  remote(id: string, action: RemoteAction): Promise<unknown> {
    return this.call("remote", id, action);
  }
  socketsJoin(target: Target, rooms: string[]): Promise<void> {
    return this.call("socketsJoin", target, rooms);
  }
  socketsLeave(target: Target, rooms: string[]): Promise<void> {
    return this.call("socketsLeave", target, rooms);
  }
  disconnectSockets(target: Target, close: boolean): Promise<void> {
    return this.call("disconnectSockets", target, close);
  }
  serverSideEmit(tag: string, args: unknown[]): Promise<void> {
    return this.call("serverSideEmit", tag, args);
  }
  serverSideEmitWithAck(tag: string): Promise<AckResult> {
    return this.call("serverSideEmitWithAck", tag);
  }
  /** Closes the server in the child (the child then exits on its own or is killed by the test). */
  async close(): Promise<void> {
    try {
      await this.call("close");
    } finally {
      this.channel.off("message", this.onMessage);
    }
  }
}
