/**
 * examples/cluster: three Volley processes on the Redis adapter (start.js, through its API
 * and as the one command a user runs), and the Node `cluster` example with
 * @socket.io/sticky and the cluster adapter (sticky.js). Each check connects clients to
 * different nodes and counts what each client received: every chat line, from every node,
 * exactly once. Everything runs on 127.0.0.1 on free ports and is stopped at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { io as connect, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import { within, quiet, until } from "../helpers";
import { REDIS_URL, requireRedis, uniqueName } from "../adapters/harness/services";
import { ROOT, T, loadExample } from "./util";

interface Node {
  name: string;
  port: number;
  url: string;
}
interface Chat {
  text: string;
  from: string;
  via?: string;
  worker?: number;
}
interface DemoResult {
  label: string;
  node: string;
  received: Chat[];
}
interface StartExample {
  startNodes(opts: { ports: number[]; host?: string; redisUrl?: string; key?: string }): Promise<{ nodes: Node[]; stop(): Promise<void> }>;
  demo(nodes: Node[], log?: (line: string) => void): Promise<DemoResult[]>;
}

const { startNodes, demo } = loadExample<StartExample>("cluster", "start.js");

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A client that records every `chat` it receives, with the `welcome` of its node. */
class ChatClient<W> {
  readonly socket: ClientSocket;
  readonly received: Chat[] = [];
  readonly welcome: Promise<W>;

  constructor(url: string, opts: ClientOptions) {
    this.socket = connect(url, { forceNew: true, reconnection: false, ...opts });
    this.socket.on("chat", (msg: Chat) => this.received.push(msg));
    this.welcome = within(
      new Promise<W>((resolve, reject) => {
        this.socket.once("welcome", resolve);
        this.socket.once("connect_error", reject);
      }),
      T,
      `welcome from ${url}`,
    );
  }

  /** Resolves once `n` chat lines arrived. */
  async chats(n: number): Promise<void> {
    await within(
      (async () => {
        while (this.received.length < n) await new Promise((resolve) => this.socket.once("chat", resolve));
      })(),
      T,
      `${n} chat lines`,
    );
  }

  send(text: string): Promise<unknown> {
    return within(this.socket.timeout(T).emitWithAck("chat", text), T + 500, `chat "${text}" acknowledged`);
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** Polls `servers` (the adapter's serverCount) on every client until each node counts `n`. */
async function allCount(clients: ChatClient<unknown>[], n: number): Promise<void> {
  const counts = () => Promise.all(clients.map((c) => c.socket.timeout(T).emitWithAck("servers") as Promise<number>));
  await until(async () => (await counts()).every((count) => count === n), T, `every node counting ${n} servers`);
}

/** Lets late (duplicate) deliveries show up: a bounded wait, only to prove absence. */
const settle = () => quiet(150);

const sortedTexts = (chats: Chat[]) => chats.map((c) => c.text).sort();

test("cluster example (Redis): three Volley processes, every chat line reaches the clients of every node once", async () => {
  await requireRedis();
  const { nodes, stop } = await within(
    startNodes({ ports: [0, 0, 0], host: "127.0.0.1", redisUrl: REDIS_URL, key: uniqueName("volley-example") }),
    15_000,
    "three nodes started",
  );
  const clients: ChatClient<{ node: string; id: string }>[] = [];
  try {
    assert.deepEqual(
      nodes.map((n) => n.name),
      ["node-A", "node-B", "node-C"],
    );
    // Two clients per node: one over WebSocket, one over HTTP long-polling.
    for (const node of nodes) {
      for (const transports of [["websocket"], ["polling"]]) clients.push(new ChatClient(node.url, { transports }));
    }
    const welcomes = await Promise.all(clients.map((c) => c.welcome));
    assert.deepEqual(
      welcomes.map((w) => w.node),
      ["node-A", "node-A", "node-B", "node-B", "node-C", "node-C"],
    );
    await allCount(clients, 3);

    const lines = clients.map((_, i) => `line ${i}`);
    for (const [i, c] of clients.entries()) await c.send(lines[i]);
    await Promise.all(clients.map((c) => c.chats(lines.length)));
    await settle();
    for (const [i, c] of clients.entries()) {
      assert.deepEqual(sortedTexts(c.received), [...lines].sort(), `client ${i}: each line exactly once`);
      // Each line names the node it was sent to: the one its sender is connected to.
      for (const chat of c.received) {
        const sender = clients.findIndex((s) => s.socket.id === chat.from);
        assert.equal(chat.via, welcomes[sender].node, `line from client ${sender} went through its own node`);
      }
    }

    // fetchSockets() from one node lists the sockets of all three.
    const who = (await within(clients[5].socket.timeout(T).emitWithAck("who"), T + 500, "who")) as Array<{ id: string; node: string }>;
    const byId = (list: Array<{ id: string; node: string }>) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(
      byId(who),
      byId(clients.map((c, i) => ({ id: c.socket.id!, node: welcomes[i].node }))),
    );

    // The demo start.js runs: three more clients, one per node, three lines each.
    const story: string[] = [];
    const results = await within(demo(nodes, (line) => story.push(line)), 15_000, "the demo");
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.deepEqual(sortedTexts(r.received), ["hello from client 1", "hello from client 2", "hello from client 3"], `${r.label}`);
      assert.deepEqual(r.received.map((c) => c.via).sort(), ["node-A", "node-B", "node-C"]);
    }
    assert.ok(story.includes("every node sees 3 servers on Redis"), story.join("\n"));
  } finally {
    for (const c of clients) c.close();
    await within(stop(), 15_000, "stopping the nodes");
  }
});

/** Spawns `node <file>` from the repository root; resolves with its stdout once `done(stdout)` holds. */
function spawnExample(file: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    // stdout is read here; the examples' errors go to the test's stderr.
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** SIGKILLs `child` if it is still running (the last resort of a teardown). */
function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

test("cluster example (Redis): `node examples/cluster/start.js --once` runs the demo and stops its nodes", async () => {
  await requireRedis();
  const run = spawnExample("examples/cluster/start.js", ["--once"], { PORTS: "0,0,0", REDIS_URL, REDIS_KEY: uniqueName("volley-example-cli") });
  try {
    const code = await within(run.exited, 20_000, "start.js --once exiting");
    const out = run.output();
    assert.equal(code, 0, out);
    assert.equal(out.match(/^node-[ABC] listening on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/gm)?.length, 3, out);
    // Nine deliveries: each of the three lines to each of the three clients.
    const got = out.match(/^ {2}client \d on node-[ABC] got "hello from client \d" \(sent by client \d via node-[ABC]\)$/gm) ?? [];
    assert.equal(got.length, 9, out);
    for (const sender of [1, 2, 3]) assert.equal(got.filter((l) => l.includes(`"hello from client ${sender}"`)).length, 3, out);
    assert.match(out, /^fetchSockets\(\) on node-A lists 3 sockets: /m);
    assert.match(out, /^demo done: every chat line reached the clients of every node$/m);
  } finally {
    // Its nodes end with it: they exit when their IPC channel closes.
    kill(run.child);
  }
});

test("cluster example (sticky): Node cluster workers behind @socket.io/sticky, polling clients, broadcasts across workers", async () => {
  const run = spawnExample("examples/cluster/sticky.js", [], { PORT: "0", HOST: "127.0.0.1", WORKERS: "3" });
  const clients: ChatClient<{ worker: number; transport: string }>[] = [];
  try {
    const url = await within(
      (async () => {
        for (;;) {
          const match = /^sticky cluster on (http:\/\/127\.0\.0\.1:\d+) \(3 workers, primary pid \d+\)$/m.exec(run.output());
          if (match) return match[1];
          await new Promise((resolve) => run.child.stdout!.once("data", resolve));
        }
      })(),
      15_000,
      "sticky.js listening",
    );
    // Polling only, polling upgraded to WebSocket (the upgrade request must reach the same
    // worker), polling only. One after another, so that least-connection spreads them.
    const kinds: ClientOptions["transports"][] = [["polling"], ["polling", "websocket"], ["polling"]];
    const welcomes: Array<{ worker: number; transport: string }> = [];
    for (const transports of kinds) {
      // @socket.io/sticky learns which worker owns a new polling session from an IPC
      // message of that worker; the client's next request can (rarely) overtake it and
      // reach another worker, which refuses the unknown sid. A real client reconnects;
      // here a new attempt is made (at most three).
      for (let attempt = 1; ; attempt++) {
        const client = new ChatClient<{ worker: number; transport: string }>(url, { transports });
        try {
          welcomes.push(await client.welcome);
          clients.push(client);
          break;
        } catch (err) {
          client.close();
          if (attempt === 3) throw err;
        }
      }
    }
    assert.ok(welcomes.every((w) => w.transport === "polling"), "every session starts with polling");
    const workers = new Set(welcomes.map((w) => w.worker));
    assert.ok(workers.size >= 2, `clients spread over workers: ${JSON.stringify(welcomes)}`);
    await allCount(clients, 3);

    const upgrading = clients[1].socket.io.engine;
    if (upgrading.transport.name !== "websocket") {
      await within(new Promise((resolve) => upgrading.once("upgrade", resolve)), T, "upgrade to WebSocket");
    }

    // Several round trips per polling client: each later request must find its session.
    const lines: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, c] of clients.entries()) {
        const text = `round ${round} client ${i}`;
        lines.push(text);
        await c.send(text);
      }
    }
    await Promise.all(clients.map((c) => c.chats(lines.length)));
    await settle();
    for (const [i, c] of clients.entries()) {
      assert.deepEqual(sortedTexts(c.received), [...lines].sort(), `client ${i}: each line exactly once`);
      for (const chat of c.received) {
        const sender = clients.findIndex((s) => s.socket.id === chat.from);
        assert.equal(chat.worker, welcomes[sender].worker, "a line goes out through its sender's worker");
      }
    }
    assert.equal(upgrading.transport.name, "websocket");

    for (const c of clients) c.close();
    run.child.kill("SIGTERM");
    assert.equal(await within(run.exited, 10_000, "sticky.js exiting on SIGTERM"), 0);
  } finally {
    for (const c of clients) c.close();
    kill(run.child);
  }
});
