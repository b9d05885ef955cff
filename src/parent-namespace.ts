import { Namespace } from "./namespace";
import type { RemoteSocket } from "./broadcast-operator";
import { Adapter } from "./adapter/in-memory-adapter";
import type { BroadcastOptions } from "./adapter/types";
import type { Server } from "./server";
import type { DefaultEventsMap, EventNamesWithoutAck, EventParams, EventsMap } from "./typed-events";

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The namespace behind `io.of(regex)` or `io.of(fn)`: it creates a child namespace for
 * each matching name a client asks for, passes its middlewares and connection
 * listeners down, and broadcasts to all of its children.
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  private static count = 0;
  private readonly children: Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Set();

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, "/_" + ParentNamespace.count++);
  }

  /**
   * @internal Broadcasts reach every child. The rest of the adapter interface is a real
   * (empty) in-memory adapter, so `allSockets()`, `socketsJoin()`, `disconnectSockets()`,
   * acknowledged emits... do nothing here rather than throw, as on the official server.
   */
  override _initAdapter(): void {
    const children = () => this.children;
    const adapter = new Adapter(this);
    adapter.broadcast = (packet: any, opts: BroadcastOptions) => {
      for (const nsp of children()) nsp.adapter.broadcast(packet, opts);
    };
    this.adapter = adapter;
  }

  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    for (const nsp of this.children) nsp.emit(ev, ...args);
    return true;
  }

  /** @internal */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const namespace = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this.server, name);
    for (const fn of this._fns) namespace.use(fn);
    for (const listener of this.listeners("connect")) namespace.on("connect", listener);
    for (const listener of this.listeners("connection")) namespace.on("connection", listener);
    this.children.add(namespace);
    if (this.server._opts.cleanupEmptyChildNamespaces) {
      const remove = namespace._remove.bind(namespace);
      namespace._remove = (socket) => {
        remove(socket);
        if (namespace.sockets.size === 0) {
          void namespace.adapter.close();
          this.server._nsps.delete(namespace.name);
          this.children.delete(namespace);
        }
      };
    }
    this.server._nsps.set(name, namespace);
    this.server._emitNewNamespace(namespace);
    return namespace;
  }

  override fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return Promise.all([...this.children].map((nsp) => nsp.fetchSockets())).then((lists) => lists.flat());
  }
}
