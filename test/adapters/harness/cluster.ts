/**
 * Starting a cluster of in-process nodes with an adapter, and tearing everything down in
 * the right order (clients, then servers and their adapters, then Redis/pg clients).
 */
import type { TestContext } from "node:test";
import { T, within, until } from "../../helpers";
import type { ServerOptions } from "../../../src/index";
import { startNode, type Kind, type LocalNode, type NodeHandle } from "./node";
import { connectClients, type ClientOptions, type TestClient } from "./clients";

/** Cleanups run last-registered first, each awaited, errors collected and rethrown. */
export class Teardown {
  private readonly steps: Array<() => unknown> = [];

  constructor(t: TestContext) {
    t.after(() => this.run());
  }

  defer(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await within(Promise.resolve().then(step), T, "teardown step");
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** Polls until every node counts `n` servers (adapters discover each other asynchronously). */
export async function waitForServerCount(nodes: NodeHandle[], n: number, ms = T): Promise<void> {
  await until(async () => (await Promise.all(nodes.map((node) => node.serverCount()))).every((c) => c === n), ms, `every node counting ${n} servers`);
}

export interface Cluster {
  nodes: LocalNode[];
  clients: TestClient[];
}

/**
 * Starts one node per entry of `kinds` (Volley or official socket.io), each with the server
 * options `optionsFor(i)` returns (its adapter), waits until they see each other, and
 * connects `perNode` clients to each.
 */
export async function startCluster(
  teardown: Teardown,
  kinds: Kind[],
  optionsFor: (i: number) => Promise<Partial<ServerOptions>>,
  { perNode = 2, clientOptions = {} }: { perNode?: number; clientOptions?: ClientOptions } = {},
): Promise<Cluster> {
  const nodes: LocalNode[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const node = await startNode(kinds[i], i, await optionsFor(i));
    nodes.push(node);
    teardown.defer(() => node.close());
  }
  await waitForServerCount(nodes, nodes.length);
  const clients = await connectClients(
    nodes.map((n) => n.url),
    perNode,
    clientOptions,
  );
  teardown.defer(() => clients.forEach((c) => c.close()));
  return { nodes, clients };
}
