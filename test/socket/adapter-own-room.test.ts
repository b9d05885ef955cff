/**
 * The in-memory adapter keeps a socket's own room and its list of rooms in one shared Set
 * while both hold just the socket's id. These tests check that no sequence of joins and
 * leaves can tell: the maps' contents and the room events are those of two separate Sets
 * (a plain model, below), including other sockets joining a room named after a socket and
 * a socket leaving its own room.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Adapter } from "../../src/adapter/in-memory-adapter";

type Event = [string, ...string[]];

function adapter(): { adapter: Adapter; events: Event[] } {
  const nsp = { name: "/", sockets: new Map(), server: { encoder: { encode: (p: unknown) => [JSON.stringify(p)] } } };
  const a = new Adapter(nsp);
  const events: Event[] = [];
  for (const name of ["create-room", "delete-room", "join-room", "leave-room"]) {
    a.on(name, (...args: string[]) => events.push([name, ...args]));
  }
  return { adapter: a, events };
}

/** Two maps of separate Sets, as the adapter's maps must look from outside. */
class Model {
  rooms = new Map<string, Set<string>>();
  sids = new Map<string, Set<string>>();
  events: Event[] = [];

  addAll(id: string, rooms: Set<string>): void {
    let joined = this.sids.get(id);
    if (!joined) this.sids.set(id, (joined = new Set()));
    for (const room of rooms) {
      joined.add(room);
      let members = this.rooms.get(room);
      if (!members) {
        this.rooms.set(room, (members = new Set()));
        this.events.push(["create-room", room]);
      }
      if (!members.has(id)) {
        members.add(id);
        this.events.push(["join-room", room, id]);
      }
    }
  }

  del(id: string, room: string): void {
    this.sids.get(id)?.delete(room);
    this.leave(room, id);
  }

  delAll(id: string): void {
    const joined = this.sids.get(id);
    if (!joined) return;
    for (const room of joined) this.leave(room, id);
    this.sids.delete(id);
  }

  private leave(room: string, id: string): void {
    const members = this.rooms.get(room);
    if (!members || !members.delete(id)) return;
    this.events.push(["leave-room", room, id]);
    if (members.size === 0 && this.rooms.delete(room)) this.events.push(["delete-room", room]);
  }
}

const entries = (map: Map<string, Set<string>>): Array<[string, string[]]> => [...map].map(([k, v]) => [k, [...v]]);

test("a socket's own room: one Set for both maps until either changes", () => {
  const { adapter: a, events } = adapter();
  a.addAll("s1", new Set(["s1"]));
  assert.deepEqual(events, [
    ["create-room", "s1"],
    ["join-room", "s1", "s1"],
  ]);
  assert.equal(a.sids.get("s1"), a.rooms.get("s1"), "one Set (the memory saving)");
  a.addAll("s1", new Set(["r"]));
  assert.notEqual(a.sids.get("s1"), a.rooms.get("s1"));
  assert.deepEqual(entries(a.sids), [["s1", ["s1", "r"]]]);
  assert.deepEqual(entries(a.rooms), [
    ["s1", ["s1"]],
    ["r", ["s1"]],
  ]);

  a.addAll("s2", new Set(["s2"]));
  a.addAll("s1", new Set(["s2"]));
  assert.deepEqual([...a.rooms.get("s2")!], ["s2", "s1"]);
  assert.deepEqual([...a.sids.get("s2")!], ["s2"], "s2's rooms do not change when s1 joins the room s2");

  a.addAll("s3", new Set(["s3"]));
  events.length = 0;
  a.del("s3", "s3");
  assert.deepEqual(events, [
    ["leave-room", "s3", "s3"],
    ["delete-room", "s3"],
  ]);
  assert.deepEqual([...a.sids.get("s3")!], []);
  assert.equal(a.rooms.has("s3"), false);
});

test("random joins and leaves: the same maps and events as separate Sets", () => {
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const ids = ["s1", "s2", "s3", "s4"];
  const names = ["s1", "s2", "r1", "r2"];
  for (let run = 0; run < 2000; run++) {
    const { adapter: a, events } = adapter();
    const model = new Model();
    for (let step = 0; step < 12; step++) {
      const op = random(4);
      const id = ids[random(ids.length)];
      if (op === 0) {
        a.addAll(id, new Set([id]));
        model.addAll(id, new Set([id]));
      } else if (op === 1) {
        const rooms = new Set<string>();
        for (let i = 0, n = 1 + random(3); i < n; i++) rooms.add(random(2) ? names[random(names.length)] : ids[random(ids.length)]);
        a.addAll(id, new Set(rooms));
        model.addAll(id, new Set(rooms));
      } else if (op === 2) {
        const room = random(2) ? id : names[random(names.length)];
        a.del(id, room);
        model.del(id, room);
      } else {
        a.delAll(id);
        model.delAll(id);
      }
      const where = `run ${run}, step ${step}`;
      assert.deepEqual(entries(a.rooms), entries(model.rooms), where);
      assert.deepEqual(entries(a.sids), entries(model.sids), where);
      assert.deepEqual(events, model.events, where);
    }
  }
});
