/**
 * The cluster behaviours every adapter must give, checked from each node in turn (so a
 * mixed cluster is checked in both directions): broadcasts to all, to rooms and with
 * `except`, from a socket, binary and large payloads, broadcast acknowledgements counted
 * over every node, `fetchSockets()` and RemoteSocket `emit`/`join`/`leave`/`disconnect`,
 * `socketsJoin`/`socketsLeave`/`disconnectSockets`, `serverSideEmit(WithAck)`,
 * `serverCount()`, and optionally an emitter from outside the cluster.
 *
 * Every event has a unique name; the ledger remembers who must get it, and the last
 * check asserts that every client got exactly those events, once.
 */
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { T, within, quiet } from "../../helpers";
import type { NodeHandle } from "./node";
import type { TestClient } from "./clients";

/**
 * Acknowledgement timeout of broadcasts: answers take milliseconds on loopback. Kept short
 * because the adapters hold a (non-unref'd) cleanup timer of this length per request.
 */
const ACK_TIMEOUT = 1000;

/** The API shared by @socket.io/redis-emitter and @socket.io/postgres-emitter. */
export interface EmitterOperator {
  to(room: string | string[]): EmitterOperator;
  in(room: string | string[]): EmitterOperator;
  except(room: string | string[]): EmitterOperator;
  emit(ev: string, ...args: unknown[]): unknown;
  socketsJoin(rooms: string | string[]): void;
  socketsLeave(rooms: string | string[]): void;
  disconnectSockets(close?: boolean): void;
}
export interface EmitterLike extends EmitterOperator {
  serverSideEmit(ev: string, ...args: unknown[]): void;
}

export interface ChecksOptions {
  /** Nodes the checks are run from (default: every node). */
  origins?: number[];
  emitter?: EmitterLike;
  /**
   * Resolves once a broadcast to `room` can reach the `nodes` nodes that have members in it.
   * Adapters that subscribe to a channel per room (the sharded Redis adapter) do so
   * asynchronously after the join: a broadcast sent before that is lost, by design.
   */
  roomReady?: (room: string, nodes: number) => Promise<void>;
}

/** Who must receive which event; verified at the end, exactly. */
export class Ledger {
  private readonly events: Array<{ event: string; recipients: Set<string> }> = [];
  private readonly serverSide: Array<{ tag: string; nodes: Set<number> }> = [];
  private counter = 0;

  constructor(
    private readonly clients: TestClient[],
    private readonly nodes: NodeHandle[],
  ) {}

  /** A fresh event name. */
  name(label: string): string {
    return `${label}#${++this.counter}`;
  }

  client(name: string): TestClient {
    const client = this.clients.find((c) => c.name === name);
    if (!client) throw new Error(`no client ${name}`);
    return client;
  }

  /** Sends with `send`, waits until every recipient got `event` and checks the arguments. */
  async deliver(event: string, recipients: string[], args: unknown[], send: () => Promise<unknown>): Promise<void> {
    this.events.push({ event, recipients: new Set(recipients) });
    const arrivals = recipients.map((name) => this.client(name).waitFor(event));
    await send();
    await within(Promise.all(arrivals), T, `"${event}" reaching ${recipients.join(",") || "nobody"}`);
    for (const name of recipients) assert.deepEqual(this.client(name).received.get(event)?.[0], args, `${event} at ${name}`);
  }

  async deliverServerSide(tag: string, nodes: number[], send: () => Promise<unknown>): Promise<void> {
    this.serverSide.push({ tag, nodes: new Set(nodes) });
    const arrivals = nodes.map((i) => this.nodes[i].log.serverSide(tag));
    await send();
    await within(Promise.all(arrivals), T, `server-side "${tag}" reaching nodes ${nodes.join(",")}`);
  }

  /** After a short pause: every client got each event exactly as often as expected (0 or 1). */
  async verify(): Promise<void> {
    await quiet(150); // late (duplicate or stray) deliveries show up meanwhile
    const wrong: string[] = [];
    for (const { event, recipients } of this.events) {
      for (const client of this.clients) {
        const expected = recipients.has(client.name) ? 1 : 0;
        const got = client.count(event);
        if (got !== expected) wrong.push(`${client.name} got "${event}" ${got}x (expected ${expected})`);
      }
    }
    for (const { tag, nodes } of this.serverSide) {
      for (const node of this.nodes) {
        const expected = nodes.has(node.index) ? 1 : 0;
        const got = node.log.serverSideCount(tag);
        if (got !== expected) wrong.push(`node ${node.index} got server-side "${tag}" ${got}x (expected ${expected})`);
      }
    }
    assert.deepEqual(wrong, [], wrong.join("\n"));
  }
}

/**
 * For adapters that start reading asynchronously (the streams adapter reads its stream
 * from "$", i.e. only what is added after its first XREAD): broadcasts from each node
 * until every client got one, after which nothing sent later can be missed. The events
 * are named `warm-up-*`, outside the ledger.
 */
export async function warmUp(nodes: NodeHandle[], clients: TestClient[]): Promise<void> {
  const round = async (node: NodeHandle, i: number): Promise<boolean> => {
    const ev = `warm-up-${node.index}-${i}`;
    await node.emit({}, ev, []);
    const everyone = Promise.all(clients.map((c) => c.waitFor(ev))).then(() => true);
    return Promise.race([everyone, quiet(100).then(() => false)]);
  };
  const all = async () => {
    for (const node of nodes) for (let i = 0; !(await round(node, i)); i++);
  };
  await within(all(), T, "warm-up broadcasts reaching every client");
}

/** Which node each client is on (asked from the nodes: a load balancer may have chosen). */
export async function placement(nodes: NodeHandle[], clients: TestClient[]): Promise<Map<string, number>> {
  const where = new Map<string, number>();
  for (const node of nodes) for (const name of await node.localNames()) where.set(name, node.index);
  for (const c of clients) assert.ok(where.has(c.name), `${c.name} is on no node`);
  for (const node of nodes) assert.ok([...where.values()].includes(node.index), `node ${node.index} has no client`);
  return where;
}

const sorted = <T>(list: T[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const named = (names: string[]) => sorted(names.map((name) => ({ name })));

export async function runClusterChecks(t: TestContext, nodes: NodeHandle[], clients: TestClient[], opts: ChecksOptions = {}): Promise<void> {
  const ledger = new Ledger(clients, nodes);
  const where = await placement(nodes, clients);
  const names = clients.map((c) => c.name);
  const on = (i: number) => names.filter((n) => where.get(n) === i);
  const roomA = names.filter((n) => n.endsWith("a"));
  const roomB = names.filter((n) => !n.endsWith("a"));
  const id = (name: string) => ledger.client(name).id;
  const without = (list: string[], ...drop: string[]) => list.filter((n) => !drop.includes(n));
  const N = nodes.length;
  const nodesOf = (members: string[]) => new Set(members.map((n) => where.get(n))).size;
  const ready = async (room: string, members: string[]) => {
    if (opts.roomReady) await within(opts.roomReady(room, nodesOf(members)), T, `subscription to room ${room}`);
  };
  for (const room of ["a", "b"]) await ready(room, room === "a" ? roomA : roomB);
  for (const node of nodes) await ready(`node-${node.index}`, on(node.index));
  for (const name of names) await ready(id(name), [name]);

  await t.test("serverCount() on every node counts every node", async () => {
    for (const node of nodes) assert.equal(await within(node.serverCount(), T, "serverCount"), N, `node ${node.index}`);
  });

  for (const o of opts.origins ?? nodes.map((n) => n.index)) {
    const node = nodes[o];
    const next = (o + 1) % N;
    const local = on(o)[0];
    const remote = on(next)[0];

    await t.test(`broadcasts from node ${o} (${node.kind})`, async () => {
      let ev = ledger.name("all");
      await ledger.deliver(ev, names, [o, "x"], () => node.emit({}, ev, [o, "x"]));
      ev = ledger.name("room-a");
      await ledger.deliver(ev, roomA, [o], () => node.emit({ rooms: ["a"] }, ev, [o]));
      ev = ledger.name("two-rooms");
      const union = [...new Set([...roomA, ...on(next)])];
      await ledger.deliver(ev, union, [], () => node.emit({ rooms: ["a", `node-${next}`] }, ev, []));
      ev = ledger.name("except-node");
      await ledger.deliver(ev, names.filter((n) => where.get(n) !== o), [], () => node.emit({ except: [`node-${o}`] }, ev, []));
      ev = ledger.name("room-except");
      const aNotNext = roomA.filter((n) => where.get(n) !== next);
      await ledger.deliver(ev, aNotNext, [], () => node.emit({ rooms: ["a"], except: [`node-${next}`] }, ev, []));
      ev = ledger.name("except-sid");
      await ledger.deliver(ev, without(names, remote), [], () => node.emit({ except: [id(remote)] }, ev, []));
      ev = ledger.name("to-sid");
      await ledger.deliver(ev, [remote], [{ deep: [1, null, "z"] }], () => node.emit({ rooms: [id(remote)] }, ev, [{ deep: [1, null, "z"] }]));
      ev = ledger.name("local");
      await ledger.deliver(ev, on(o), [], () => node.emit({ local: true }, ev, []));
      ev = ledger.name("nobody");
      await ledger.deliver(ev, [], [], () => node.emit({ rooms: ["no-such-room"] }, ev, []));
    });

    await t.test(`socket.broadcast and socket.to() from a socket of node ${o}`, async () => {
      let ev = ledger.name("socket-broadcast");
      await ledger.deliver(ev, without(names, local), [local], () => node.socketEmit(local, {}, ev, [local]));
      ev = ledger.name("socket-to-b");
      await ledger.deliver(ev, without(roomB, local), [], () => node.socketEmit(local, { rooms: ["b"] }, ev, []));
    });

    await t.test(`binary and large payloads from node ${o}`, async () => {
      let ev = ledger.name("binary");
      const args = [Buffer.from([1, 2, 3, 255]), { nested: Buffer.from("hé") }, "text"];
      await ledger.deliver(ev, roomB, args, () => node.emit({ rooms: ["b"] }, ev, args));
      const big = "v".repeat(70_000) + "é";
      ev = ledger.name("large");
      await ledger.deliver(ev, names, [big], () => node.emit({}, ev, [big]));
    });

    await t.test(`broadcast acknowledgements from node ${o} count the clients of every node`, async () => {
      // The acknowledged emit is started first; deliver() then checks who got the event.
      let ev = ledger.name("ack-all");
      const all = node.emitWithAck({}, ACK_TIMEOUT, ev, [o]);
      await ledger.deliver(ev, names, [o], async () => {});
      let result = await within(all, T, "ack");
      assert.deepEqual({ ...result, responses: sorted(result.responses) }, { error: null, responses: named(names) });

      ev = ledger.name("ack-room-promise");
      const pending = node.emitWithAck({ rooms: ["a"], except: [`node-${o}`] }, ACK_TIMEOUT, ev, [], "promise");
      const expected = roomA.filter((n) => where.get(n) !== o);
      await ledger.deliver(ev, expected, [], async () => {});
      result = await within(pending, T, "ack (promise)");
      assert.deepEqual({ ...result, responses: sorted(result.responses) }, { error: null, responses: named(expected) });

      ev = ledger.name("ack-nobody");
      result = await within(node.emitWithAck({ rooms: ["no-such-room"] }, ACK_TIMEOUT, ev, []), T, "ack to nobody");
      assert.deepEqual(result, { error: null, responses: [] });

      // One silent client on another node: a timeout error with the others' answers.
      ev = ledger.name("ack-timeout");
      ledger.client(remote).silent = true;
      try {
        const late = node.emitWithAck({}, 300, ev, []);
        await ledger.deliver(ev, names, [], async () => {});
        result = await within(late, T, "ack with timeout");
      } finally {
        ledger.client(remote).silent = false;
      }
      assert.equal(result.error, "operation has timed out");
      assert.deepEqual(sorted(result.responses), named(without(names, remote)));
    });

    await t.test(`fetchSockets() from node ${o}`, async () => {
      const all = await within(node.fetchSockets({}), T, "fetchSockets");
      assert.deepEqual(all.map((s) => s.name).sort(), [...names].sort());
      for (const s of all) {
        const at = where.get(s.name)!;
        assert.equal(s.id, id(s.name), `id of ${s.name}`);
        assert.equal(s.node, at);
        assert.equal(s.local, at === o, `${s.name} local`);
        assert.deepEqual(s.auth, { name: s.name });
        assert.ok(s.hasHandshakeHeaders);
        for (const room of [s.id, `node-${at}`, s.name.endsWith("a") ? "a" : "b"]) assert.ok(s.rooms.includes(room), `${s.name} in ${room}`);
      }
      const some = await within(node.fetchSockets({ rooms: ["a"], except: [`node-${next}`] }), T, "fetchSockets(room)");
      assert.deepEqual(some.map((s) => s.name).sort(), roomA.filter((n) => where.get(n) !== next).sort());
      const mine = await within(node.fetchSockets({ local: true }), T, "local fetchSockets");
      assert.deepEqual(mine.map((s) => s.name).sort(), on(o).sort());
    });

    await t.test(`RemoteSocket emit, join, leave from node ${o}`, async () => {
      const rid = id(remote);
      let ev = ledger.name("remote-emit");
      await ledger.deliver(ev, [remote], [1, "two"], () => node.remote(rid, { type: "emit", event: ev, args: [1, "two"] }));
      ev = ledger.name("remote-ack");
      let answer: unknown;
      await ledger.deliver(ev, [remote], [], async () => {
        answer = await within(node.remote(rid, { type: "emitWithAck", event: ev, timeout: ACK_TIMEOUT }), T, "remote ack");
      });
      assert.deepEqual(answer, { name: remote });

      const room = ledger.name("rj");
      const joined = nodes[next].log.roomEvent("join-room", room, rid);
      await node.remote(rid, { type: "join", room });
      await within(joined, T, "remote join");
      await ready(room, [remote]);
      ev = ledger.name("to-joined");
      await ledger.deliver(ev, [remote], [], () => node.emit({ rooms: [room] }, ev, []));
      const left = nodes[next].log.roomEvent("leave-room", room, rid);
      await node.remote(rid, { type: "leave", room });
      await within(left, T, "remote leave");
      ev = ledger.name("to-left");
      await ledger.deliver(ev, [], [], () => node.emit({ rooms: [room] }, ev, []));
    });

    await t.test(`socketsJoin and socketsLeave from node ${o}`, async () => {
      const room = ledger.name("sj");
      const joins = roomA.map((n) => nodes[where.get(n)!].log.roomEvent("join-room", room, id(n)));
      await node.socketsJoin({ rooms: ["a"] }, [room]);
      await within(Promise.all(joins), T, "socketsJoin");
      await ready(room, roomA);
      let ev = ledger.name("to-sj");
      await ledger.deliver(ev, roomA, [], () => node.emit({ rooms: [room] }, ev, []));

      const leaves = roomA.map((n) => nodes[where.get(n)!].log.roomEvent("leave-room", room, id(n)));
      await node.socketsLeave({ rooms: [room] }, [room]);
      await within(Promise.all(leaves), T, "socketsLeave");
      ev = ledger.name("to-sj-left");
      await ledger.deliver(ev, [], [], () => node.emit({ rooms: [room] }, ev, []));

      const room2 = ledger.name("sj-except");
      const joins2 = roomB.map((n) => nodes[where.get(n)!].log.roomEvent("join-room", room2, id(n)));
      await node.socketsJoin({ except: ["a"] }, [room2]);
      await within(Promise.all(joins2), T, "socketsJoin with except");
      await ready(room2, roomB);
      ev = ledger.name("to-sj-except");
      await ledger.deliver(ev, roomB, [], () => node.emit({ rooms: [room2] }, ev, []));
    });

    await t.test(`serverSideEmit and serverSideEmitWithAck from node ${o}`, async () => {
      const otherNodes = nodes.map((n) => n.index).filter((i) => i !== o);
      let tag = ledger.name("sse");
      await ledger.deliverServerSide(tag, otherNodes, () => node.serverSideEmit(tag, [o, { k: "v" }]));
      for (const i of otherNodes) {
        const entry = nodes[i].log.entries.find((e) => e.kind === "sse" && e.tag === tag);
        assert.deepEqual(entry, { kind: "sse", tag, args: [o, { k: "v" }] });
      }
      tag = ledger.name("sse-ack");
      let result: Awaited<ReturnType<NodeHandle["serverSideEmitWithAck"]>> | undefined;
      await ledger.deliverServerSide(tag, otherNodes, async () => {
        result = await within(node.serverSideEmitWithAck(tag), T, "serverSideEmitWithAck");
      });
      assert.deepEqual({ ...result!, responses: sorted(result!.responses) }, { error: null, responses: sorted(otherNodes.map((i) => ({ node: i }))) });
    });
  }

  const emitter = opts.emitter;
  if (emitter) {
    await t.test("an emitter outside the cluster reaches every node's clients", async () => {
      let ev = ledger.name("emitter-all");
      await ledger.deliver(ev, names, ["from", "emitter"], async () => emitter.emit(ev, "from", "emitter"));
      ev = ledger.name("emitter-room");
      await ledger.deliver(ev, roomA, [], async () => emitter.to("a").emit(ev));
      ev = ledger.name("emitter-rooms");
      await ledger.deliver(ev, [...new Set([...roomA, ...on(1)])], [], async () => emitter.to(["a", "node-1"]).emit(ev));
      ev = ledger.name("emitter-except");
      await ledger.deliver(ev, roomB, [], async () => emitter.except("a").emit(ev));
      const target = on(N - 1)[0];
      ev = ledger.name("emitter-sid");
      await ledger.deliver(ev, [target], [], async () => emitter.to(id(target)).emit(ev));
      ev = ledger.name("emitter-binary");
      const args = [Buffer.from([0, 1, 2]), { b: Buffer.from([9]) }];
      await ledger.deliver(ev, names, args, async () => emitter.emit(ev, ...args));

      const room = ledger.name("emitter-join");
      const joins = roomB.map((n) => nodes[where.get(n)!].log.roomEvent("join-room", room, id(n)));
      emitter.in("b").socketsJoin(room);
      await within(Promise.all(joins), T, "emitter socketsJoin");
      await ready(room, roomB);
      ev = ledger.name("to-emitter-join");
      await ledger.deliver(ev, roomB, [], () => nodes[0].emit({ rooms: [room] }, ev, []));
      const leaves = roomB.map((n) => nodes[where.get(n)!].log.roomEvent("leave-room", room, id(n)));
      emitter.in(room).socketsLeave(room);
      await within(Promise.all(leaves), T, "emitter socketsLeave");

      const tag = ledger.name("emitter-sse");
      await ledger.deliverServerSide(tag, nodes.map((n) => n.index), async () => emitter.serverSideEmit("sse", tag, 42));
    });
  }

  await t.test("disconnects across nodes: RemoteSocket.disconnect, disconnectSockets", async () => {
    const gone: string[] = [];
    const expectGone = async (victims: string[], act: () => Promise<unknown>) => {
      gone.push(...victims);
      const waits = victims.map((n) => ledger.client(n).waitFor("disconnect"));
      await act();
      await within(Promise.all(waits), T, `disconnect of ${victims.join(",")}`);
      for (const n of victims) assert.deepEqual(ledger.client(n).disconnects, ["io server disconnect"], n);
    };
    const victim = on(1 % N)[0];
    await expectGone([victim], () => nodes[0].remote(id(victim), { type: "disconnect", close: false }));
    const bOutside = roomB.filter((n) => where.get(n) !== N - 1 && !gone.includes(n));
    await expectGone(bOutside, () => nodes[N - 1].disconnectSockets({ rooms: ["b"], except: [`node-${N - 1}`] }, true));
    if (emitter) {
      const last = names.find((n) => !gone.includes(n) && where.get(n) === 0);
      if (last) await expectGone([last], async () => emitter.to(id(last)).disconnectSockets());
    }
    const survivors = names.filter((n) => !gone.includes(n));
    for (const node of nodes) {
      const left = await within(node.fetchSockets({}), T, "fetchSockets after disconnects");
      assert.deepEqual(left.map((s) => s.name).sort(), [...survivors].sort(), `seen from node ${node.index}`);
    }
    for (const node of nodes) {
      const ev = ledger.name("after-disconnects");
      await ledger.deliver(ev, survivors, [], () => node.emit({}, ev, []));
    }
    for (const n of survivors) assert.ok(ledger.client(n).socket.connected, `${n} still connected`);
  });

  await t.test("nothing lost, nothing duplicated", () => ledger.verify());
}
