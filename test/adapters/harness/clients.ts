/**
 * socket.io-client v4 clients that record every event they receive (nothing lost, nothing
 * duplicated is checked on these records) and answer every acknowledgement with `{ name }`.
 */
import { io as connect, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { T, within } from "../../helpers";

export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

export class TestClient {
  readonly socket: ClientSocket;
  /** Arguments of every received event, by event name (acknowledgement functions removed). */
  readonly received = new Map<string, unknown[][]>();
  /** Names of received events, in arrival order. */
  readonly order: string[] = [];
  readonly disconnects: string[] = [];
  /** When set, acknowledgements are not answered. */
  silent = false;
  private waiters: Array<{ event: string; count: number; resolve: () => void }> = [];

  constructor(
    readonly name: string,
    url: string,
    opts: ClientOptions = {},
  ) {
    this.socket = connect(url, { forceNew: true, reconnection: false, auth: { name }, ...opts });
    this.socket.onAny((event: string, ...args: unknown[]) => {
      const last = args[args.length - 1];
      if (typeof last === "function") {
        args.pop();
        if (!this.silent) (last as (answer: unknown) => void)({ name: this.name });
      }
      this.record(event, args);
    });
    this.socket.on("disconnect", (reason: string) => {
      this.disconnects.push(reason);
      this.resolveWaiters("disconnect");
    });
  }

  private record(event: string, args: unknown[]): void {
    let list = this.received.get(event);
    if (!list) this.received.set(event, (list = []));
    list.push(args.map(normalize));
    this.order.push(event);
    this.resolveWaiters(event);
  }

  private resolveWaiters(event: string): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.event !== event || this.count(event) < w.count) return true;
      w.resolve();
      return false;
    });
  }

  count(event: string): number {
    return event === "disconnect" ? this.disconnects.length : (this.received.get(event)?.length ?? 0);
  }

  /** Resolves once `count` events named `event` arrived ("disconnect" counts disconnections). */
  waitFor(event: string, count = 1): Promise<void> {
    if (this.count(event) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ event, count, resolve }));
  }

  connected(ms = T): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return within(
      new Promise<void>((resolve, reject) => {
        this.socket.once("connect", () => resolve());
        this.socket.once("connect_error", (err: Error) => reject(new Error(`${this.name}: ${err.message}`)));
      }),
      ms,
      `${this.name} connect`,
    );
  }

  get id(): string {
    const id = this.socket.id;
    if (!id) throw new Error(`${this.name} is not connected`);
    return id;
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** Binary arrives as Buffer or ArrayBuffer depending on the transport: compare as Buffer. */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/**
 * Connects `perNode` clients to each url: names `n<i><letter>` ("n0a", "n0b", ...). The
 * second client of each node uses HTTP long-polling, the others WebSocket.
 */
export async function connectClients(urls: string[], perNode = 2, opts: ClientOptions = {}): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  urls.forEach((url, i) => {
    for (let k = 0; k < perNode; k++) {
      const letter = String.fromCharCode(97 + k);
      const transports = k === 1 ? ["polling"] : ["websocket"];
      clients.push(new TestClient(`n${i}${letter}`, url, { transports, ...opts }));
    }
  });
  try {
    await Promise.all(clients.map((c) => c.connected()));
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
  return clients;
}
