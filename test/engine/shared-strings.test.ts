import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { getHeapSnapshot } from "node:v8";
import type { Socket as EngineSocket } from "../../src/engine";
import { T, startEngine, once, within } from "../helpers";
import { handshake } from "./raw-util";

// Each session keeps its handshake request; equal header strings are kept once
// (src/engine/shared-strings.ts). Strings have no identity in JavaScript, so the sharing is
// seen in a heap snapshot, and the requests must read exactly as they arrived.

/** How many strings in this process's heap equal `text` (a snapshot collects garbage first). */
async function copiesInHeap(text: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snap = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  let count = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    if (types[snap.nodes[i + iType]] === "string" && snap.strings[snap.nodes[i + iName]] === text) count++;
  }
  return count;
}

test("sessions share one copy of the header values their requests repeat", async (t) => {
  const fx = await startEngine();
  t.after(() => fx.close());
  // Built at run time, so that the test's own source holds no equal literal.
  const value = ["volley", "probe", String(process.pid)].join("-");
  const sessions = 40;
  let opened = 0;
  const allOpen = new Promise<void>((resolve) => {
    fx.engine.on("connection", () => {
      if (++opened === sessions) resolve();
    });
  });
  for (let i = 0; i < sessions; i++) await handshake(fx.port, undefined, { headers: { "X-Volley-Probe": value } });
  await within(allOpen, T, "sessions");
  const requests = Object.values(fx.engine.clients).map((s) => (s as EngineSocket).request);
  assert.equal(requests.length, sessions);
  for (const req of requests) assert.equal(req.headers["x-volley-probe"], value);
  // Unshared, each kept request holds its own copy: 40 or more.
  const copies = await copiesInHeap(value);
  assert.ok(copies <= 3, `${copies} copies of the header value in the heap`);
});

test("a kept request reads as it arrived: URL, raw headers, headers (repeated, unique, long)", async () => {
  const fx = await startEngine({ transports: ["websocket"] });
  const sockets: ReturnType<typeof connect>[] = [];
  try {
    const long = "l".repeat(300);
    const lines = [
      ["Host", `127.0.0.1:${fx.port}`],
      ["Connection", "Upgrade"],
      ["Upgrade", "websocket"],
      ["Sec-WebSocket-Version", "13"],
      ["X-Dup", "first"],
      ["x-dup", "second"],
      ["Cookie", "a=1; b=2"],
      ["X-Long", long],
      ["X-" + long, "long name"],
      ["User-Agent", "volley-test/1.0"],
    ];
    const url = "/engine.io/?EIO=4&transport=websocket&x=%20y";
    const keys = ["dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEA=="];
    // Twice: the second request's strings come from the pool the first one filled.
    for (const key of keys) {
      const opened = once<[EngineSocket]>(fx.engine, "connection");
      const socket = connect(fx.port, "127.0.0.1");
      sockets.push(socket);
      socket.on("error", () => {});
      const head = [`GET ${url} HTTP/1.1`, ...lines.map(([k, v]) => `${k}: ${v}`), `Sec-WebSocket-Key: ${key}`, "", ""].join("\r\n");
      socket.write(head);
      const [session] = await within(opened, T, "session");
      const req = session.request;
      assert.equal(req.url, url);
      assert.deepEqual(req.rawHeaders, [...lines.flat(), "Sec-WebSocket-Key", key]);
      assert.deepEqual(
        { ...req.headers },
        {
          host: `127.0.0.1:${fx.port}`,
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "x-dup": "first, second",
          cookie: "a=1; b=2",
          "x-long": long,
          ["x-" + long]: "long name",
          "user-agent": "volley-test/1.0",
          "sec-websocket-key": key,
        },
      );
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await fx.close();
  }
});

test("a request that a middleware made read-only still opens its session, unchanged", async (t) => {
  const fx = await startEngine();
  t.after(() => fx.close());
  fx.engine.use((req, _res, next) => {
    Object.freeze(req.headers);
    Object.freeze(req.rawHeaders);
    const url = req.url;
    Object.defineProperty(req, "url", { get: () => url, enumerable: true });
    next();
  });
  const opened = once<[EngineSocket]>(fx.engine, "connection");
  await handshake(fx.port, undefined, { headers: { "X-Read-Only": "yes" } });
  const [session] = await within(opened, T, "session");
  assert.equal(session.request.headers["x-read-only"], "yes");
  assert.ok(Object.isFrozen(session.request.headers));
  assert.equal(session.request.url, "/engine.io/?EIO=4&transport=polling");
});
