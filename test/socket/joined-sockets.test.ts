/**
 * joined-sockets.ts: a client's joined sockets in one slot, the sole socket itself until a
 * second namespace is joined, then a SocketsByNamespace (by id and by namespace name).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SocketsByNamespace,
  hasJoined,
  joinedIn,
  joinedList,
  withJoined,
  withNoneJoined,
  withoutJoined,
  withoutJoinedIds,
  type JoinedSocket,
  type JoinedSockets,
} from "../../src/joined-sockets";

function socket(id: string, nsp: string): JoinedSocket {
  return { id, nsp: { name: nsp } };
}

test("one namespace: the slot holds the socket itself, no object of its own", () => {
  const a = socket("a", "/");
  const joined = withJoined(undefined, a);
  assert.equal(joined, a);
  assert.equal(hasJoined(joined), true);
  assert.equal(joinedIn(joined, "/"), a);
  assert.equal(joinedIn(joined, "/chat"), undefined);
  assert.deepEqual([...joinedList(joined)], [a]);
  assert.equal(withoutJoined(joined, socket("a", "/")), a, "another object with the same id is not it");
  assert.equal(withoutJoined(joined, a), undefined);
});

test("nothing joined", () => {
  assert.equal(hasJoined(undefined), false);
  assert.equal(joinedIn(undefined, "/"), undefined);
  assert.deepEqual([...joinedList(undefined)], []);
  assert.equal(withoutJoinedIds(undefined), undefined);
  assert.equal(withNoneJoined(undefined), undefined);
});

test("a second namespace moves both to a SocketsByNamespace, in the order they joined", () => {
  const a = socket("a", "/");
  const b = socket("b", "/chat");
  const c = socket("c", "/admin");
  let joined: JoinedSockets<JoinedSocket> = withJoined(withJoined(undefined, a), b);
  assert.ok(joined instanceof SocketsByNamespace);
  joined = withJoined(joined, c);
  assert.deepEqual([...joinedList(joined)], [a, b, c]);
  assert.equal(joinedIn(joined, "/chat"), b);
  joined = withoutJoined(joined, b);
  assert.equal(joinedIn(joined, "/chat"), undefined);
  assert.deepEqual([...joinedList(joined)], [a, c]);
  // It stays a SocketsByNamespace: a client never goes back to the sole-socket shape.
  joined = withoutJoined(withoutJoined(joined, a), c);
  assert.ok(joined instanceof SocketsByNamespace);
  assert.equal(hasJoined(joined), false);
});

test("a socket that lost its id to another one is not removed", () => {
  const first = socket("x", "/");
  const second = socket("x", "/chat");
  const joined = withJoined(withJoined(undefined, first), second);
  withoutJoined(joined, first);
  assert.equal(joinedIn(joined, "/chat"), second);
  assert.equal(joinedIn(joined, "/"), first, "the name stays: the id now names the other socket");
});

test("withoutJoinedIds keeps the names (the official server drops them when the client closes)", () => {
  const a = socket("a", "/");
  const b = socket("b", "/chat");
  const joined = withoutJoinedIds(withJoined(withJoined(undefined, a), b));
  assert.deepEqual([...joinedList(joined)], []);
  assert.equal(joinedIn(joined, "/chat"), b);
  assert.equal(hasJoined(joined), true);
  const none = withNoneJoined(joined);
  assert.equal(joinedIn(none, "/chat"), undefined);
  assert.equal(hasJoined(none), false);
  assert.equal(withoutJoinedIds(a), undefined, "the sole socket goes");
});
