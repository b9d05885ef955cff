/**
 * A tiny TCP load balancer for tests: forwards each connection to the current target
 * port; `cut()` drops every open connection (as a failing node or balancer would), and
 * setting `target` sends the next connections elsewhere.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(public target: number) {
    this.server = createServer((downstream) => {
      const upstream = connect(this.target, "127.0.0.1");
      const pair: [Socket, Socket] = [downstream, upstream];
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        downstream.destroy();
        upstream.destroy();
      };
      downstream.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
  }

  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Destroys every connection going through the proxy. */
  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
