/**
 * The polling transport's close states, driven without sockets: fake GET requests and
 * responses record what each poll is answered with.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { Polling } from "../../src/engine/transports/polling";
import type { EngineRequest, TransportSink } from "../../src/engine/transport";
import type { Packet } from "../../src/engine/packet";

class FakeResponse extends EventEmitter {
  headersSent = false;
  body: string | undefined;
  status = 0;
  writeHead(status: number): this {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  end(body: string, cb?: () => void): void {
    this.body = body;
    cb?.();
  }
}

function get(): { req: EngineRequest; res: FakeResponse } {
  const req = Object.assign(new EventEmitter(), { method: "GET", headers: {}, _query: { EIO: "4" } }) as unknown as EngineRequest;
  return { req, res: new FakeResponse() };
}

function poll(transport: Polling): FakeResponse {
  const { req, res } = get();
  transport.onRequest(req, res as unknown as ServerResponse);
  return res;
}

const sink: TransportSink = {
  onTransportPacket() {},
  onTransportReady() {},
  onTransportDrain() {},
  onTransportError() {},
  onTransportClose() {},
};

function transport(): Polling {
  const t = new Polling({ _query: { EIO: "4" } } as unknown as EngineRequest);
  t.sink = sink;
  return t;
}

test("polling: writable only while a GET waits; send answers it and leaves the packets as they were", () => {
  const t = transport();
  assert.equal(t.writable, false);
  const res = poll(t);
  assert.equal(t.writable, true);
  const packets: Packet[] = [{ type: "message", data: "a" }];
  t.send(packets);
  assert.equal(res.body, "4a");
  assert.deepEqual(packets, [{ type: "message", data: "a" }]);
  assert.equal(t.writable, false);
  t.send(packets); // no GET waiting: nothing happens
  assert.equal(t.readyState, "open");
});

test("polling: a close with a GET waiting answers it with the close packet and ends at once", () => {
  const t = transport();
  const res = poll(t);
  let closed = false;
  t.close(() => (closed = true));
  assert.equal(res.body, "1");
  assert.equal(closed, true);
  assert.equal(t.readyState, "closed");
  assert.equal(t.writable, false);
});

test("polling: a close without a GET waits for the next one, which carries noop then close", () => {
  const t = transport();
  let closed = false;
  t.close(() => (closed = true));
  assert.equal(closed, false);
  assert.equal(t.readyState, "closing");
  const res = poll(t);
  assert.equal(res.body, "6\x1e1");
  assert.equal(closed, true);
  assert.equal(t.readyState, "closed");
});

test("polling: a close without a GET ends when the close timer does", async () => {
  const t = transport();
  t.closeTimeout = 5;
  let closed = false;
  t.close(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(closed, true);
  assert.equal(t.readyState, "closed");
});

test("polling: discarded, or let go by its session, a transport closes without waiting for a GET", () => {
  const discarded = transport();
  discarded.discard();
  discarded.close();
  assert.equal(discarded.readyState, "closed");
  const orphan = transport();
  orphan.sink = undefined;
  orphan.close();
  assert.equal(orphan.readyState, "closed");
});

test("polling: a GET closed by the client before its answer leaves the transport idle", () => {
  const t = transport();
  t.sink = undefined;
  const res = poll(t);
  assert.equal(t.writable, true);
  res.emit("close");
  assert.equal(t.writable, false);
  assert.equal(t.readyState, "open");
});
