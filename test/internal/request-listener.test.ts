/** prependRequestHandler: the handler first, the listeners that were there before for the rest. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { prependRequestHandler } from "../../src/internal/request-listener";

function request(url: string): IncomingMessage {
  return { url } as IncomingMessage;
}
const response = {} as ServerResponse;

test("requests the handler answers stop there; others reach the earlier listeners in order, on the server", () => {
  const server = new EventEmitter();
  const seen: string[] = [];
  server.on("request", function (this: unknown, req: IncomingMessage) {
    assert.equal(this, server);
    seen.push(`first ${req.url}`);
  });
  server.on("request", (req: IncomingMessage) => seen.push(`second ${req.url}`));
  prependRequestHandler(server, (req) => {
    if (req.url !== "/mine") return false;
    seen.push(`handler ${req.url}`);
    return true;
  });
  server.on("request", (req: IncomingMessage) => seen.push(`later ${req.url}`));
  assert.equal(server.listenerCount("request"), 2);
  server.emit("request", request("/mine"), response);
  server.emit("request", request("/other"), response);
  assert.deepEqual(seen, ["handler /mine", "later /mine", "first /other", "second /other", "later /other"]);
});

test("two handlers: the one prepended last runs first", () => {
  const server = new EventEmitter();
  const seen: string[] = [];
  prependRequestHandler(server, (req) => (req.url === "/a" ? (seen.push("a"), true) : false));
  prependRequestHandler(server, (req) => (req.url === "/b" ? (seen.push("b"), true) : false));
  server.emit("request", request("/a"), response);
  server.emit("request", request("/b"), response);
  assert.deepEqual(seen, ["a", "b"]);
});
