/**
 * Reserved event names have one home: the parser's set (what a peer may never send) is
 * also what an application may never emit; serverSideEmit refuses its own, different set.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RESERVED_EVENTS as PARSER_RESERVED } from "../../src/parser/index";
import { RESERVED_EVENTS, SERVER_SIDE_RESERVED_EVENTS, refuseReserved } from "../../src/socket-types";

test("the socket layer's reserved names are the parser's set itself", () => {
  assert.equal(RESERVED_EVENTS, PARSER_RESERVED);
  assert.deepEqual([...RESERVED_EVENTS].sort(), ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
});

test("serverSideEmit's reserved names: a namespace's own events", () => {
  assert.deepEqual([...SERVER_SIDE_RESERVED_EVENTS].sort(), ["connect", "connection", "new_namespace"]);
});

test("refuseReserved throws the official server's message, and nothing for other names", () => {
  assert.throws(() => refuseReserved(RESERVED_EVENTS, "disconnect"), { message: '"disconnect" is a reserved event name' });
  assert.throws(() => refuseReserved(SERVER_SIDE_RESERVED_EVENTS, "connection"), { message: '"connection" is a reserved event name' });
  refuseReserved(RESERVED_EVENTS, "connection");
  refuseReserved(RESERVED_EVENTS, Symbol("disconnect"));
});
