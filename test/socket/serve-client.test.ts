/**
 * Serving the browser client (`serveClient`, on by default): every bundle and source map
 * under `{path}/`, with the official server's headers (checked against socket.io 4.8),
 * conditional GETs, compressed bodies, 400 for unknown names, and the rest of the HTTP
 * server left alone. Raw `http` requests over loopback.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as zlib from "node:zlib";
import { Server, type ServerOptions } from "../../src/index";
import { T, within } from "../helpers";

const CLIENT_PKG = require.resolve("socket.io-client/package.json");
const CLIENT_DIST = join(dirname(CLIENT_PKG), "dist");
// upstream server-attachment.ts "should serve client": the ETag is the server package's own version.
const VERSION = (JSON.parse(readFileSync(join(__dirname, "../../../package.json"), "utf8")) as { version: string }).version;
const ETAG = `"${VERSION}"`;

const BUNDLES = ["socket.io.js", "socket.io.min.js", "socket.io.esm.min.js", "socket.io.msgpack.min.js"];
const FILES = BUNDLES.flatMap((name) => [name, name + ".map"]);

const fileCache = new Map<string, Buffer>();
function file(name: string): Buffer {
  let body = fileCache.get(name);
  if (!body) fileCache.set(name, (body = readFileSync(join(CLIENT_DIST, name))));
  return body;
}

interface Fixture {
  io: Server;
  http: HttpServer;
  port: number;
}

/** A Volley server on an HTTP server whose own handler answers "app <url>". */
async function start(t: TestContext, opts: Partial<ServerOptions> = {}): Promise<Fixture> {
  const http = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("app " + req.url);
  });
  const io = new Server(http, opts);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    http.closeAllConnections();
    await io.close();
  });
  return { io, http, port: (http.address() as AddressInfo).port };
}

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, headers: OutgoingHttpHeaders = {}, method = "GET"): Promise<Response> {
  const done = new Promise<Response>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  return within(done, T, `${method} ${path}`);
}

function contentType(name: string): string {
  return `application/${name.endsWith(".map") ? "json" : "javascript"}; charset=utf-8`;
}

/** The headers the official server sends with a bundle (Date and connection headers aside). */
function assertBundleHeaders(res: Response, name: string): void {
  assert.equal(res.status, 200, name);
  assert.equal(res.headers["content-type"], contentType(name), name);
  assert.equal(res.headers.etag, ETAG, name);
  assert.equal(res.headers["cache-control"], "public, max-age=0", name);
}

test("every bundle and source map is served as the file in socket.io-client/dist", async (t) => {
  const { port } = await start(t);
  for (const name of FILES) {
    const res = await get(port, "/socket.io/" + name);
    assertBundleHeaders(res, name);
    assert.equal(res.headers["content-encoding"], undefined, name);
    assert.ok(res.body.equals(file(name)), `${name}: body differs from the shipped file`);
  }
});

test("a query string after the name is ignored", async (t) => {
  const { port } = await start(t);
  const res = await get(port, "/socket.io/socket.io.min.js?v=" + VERSION);
  assertBundleHeaders(res, "socket.io.min.js");
  assert.ok(res.body.equals(file("socket.io.min.js")));
});

test("HEAD gets the headers without a body", async (t) => {
  const { port } = await start(t);
  const res = await get(port, "/socket.io/socket.io.js", {}, "HEAD");
  assertBundleHeaders(res, "socket.io.js");
  assert.equal(res.body.length, 0);
});

test("If-None-Match with the ETag, strong or weak, answers 304 without a body", async (t) => {
  const { port } = await start(t);
  for (const tag of [ETAG, "W/" + ETAG]) {
    for (const name of ["socket.io.js", "socket.io.esm.min.js.map"]) {
      const res = await get(port, "/socket.io/" + name, { "If-None-Match": tag });
      assert.equal(res.status, 304, `${name} with ${tag}`);
      assert.equal(res.body.length, 0);
    }
  }
  // Another version's tag gets the full file.
  const stale = await get(port, "/socket.io/socket.io.js", { "If-None-Match": '"0.0.1"' });
  assertBundleHeaders(stale, "socket.io.js");
  assert.ok(stale.body.equals(file("socket.io.js")));
});

const decompress: Record<string, (buf: Buffer) => Buffer> = {
  br: (buf) => zlib.brotliDecompressSync(buf),
  gzip: (buf) => zlib.gunzipSync(buf),
  deflate: (buf) => zlib.inflateSync(buf),
};

test("br, gzip and deflate bodies decompress to the file", async (t) => {
  const { port } = await start(t);
  for (const encoding of ["br", "gzip", "deflate"]) {
    for (const name of ["socket.io.js", "socket.io.msgpack.min.js.map"]) {
      const res = await get(port, "/socket.io/" + name, { "Accept-Encoding": encoding });
      assertBundleHeaders(res, name);
      assert.equal(res.headers["content-encoding"], encoding, name);
      assert.ok(res.body.length < file(name).length, `${name}: ${encoding} body is not smaller`);
      assert.ok(decompress[encoding](res.body).equals(file(name)), `${name}: ${encoding} body differs`);
    }
  }
});

// What socket.io 4.8 picks for each Accept-Encoding (measured with the official server).
const NEGOTIATION: Array<[string, string | undefined]> = [
  ["gzip, deflate, br", "gzip"],
  ["br, gzip", "br"],
  ["gzip;q=0.5, br;q=0.9", "br"],
  ["*", "br"],
  ["*, deflate", "deflate"],
  ["GZIP", "gzip"],
  ["identity", undefined],
  ["gzip;q=0, br;q=0", undefined],
  ["compress, zstd", undefined],
];

test("the encoding is negotiated as the official server does", async (t) => {
  const { port } = await start(t);
  for (const [accept, expected] of NEGOTIATION) {
    const res = await get(port, "/socket.io/socket.io.min.js", { "Accept-Encoding": accept });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-encoding"], expected, `Accept-Encoding: ${accept}`);
    const body = expected ? decompress[expected](res.body) : res.body;
    assert.ok(body.equals(file("socket.io.min.js")), `Accept-Encoding: ${accept}`);
  }
});

test("unknown names under the path answer 400", async (t) => {
  const { port } = await start(t);
  for (const path of ["/socket.io/socket.io.foo.js", "/socket.io/socket.io.msgpack.js", "/socket.io/socket.io.esm.js.map", "/socket.io/socket.io.min.js.map/x"]) {
    const res = await get(port, path);
    assert.equal(res.status, 400, path);
    assert.match(String(res.headers["content-type"]), /^application\/json/, path);
    assert.equal(typeof (JSON.parse(res.body.toString()) as { message: unknown }).message, "string", path);
  }
});

test("serveClient: false leaves the files to the engine, which refuses them", async (t) => {
  const { port } = await start(t, { serveClient: false });
  for (const name of ["socket.io.js", "socket.io.min.js.map"]) {
    const res = await get(port, "/socket.io/" + name);
    assert.equal(res.status, 400, name);
    assert.equal(res.headers.etag, undefined);
    assert.deepEqual(JSON.parse(res.body.toString()), { code: 0, message: "Transport unknown" });
  }
});

test("a custom path serves the files under it, and only there", async (t) => {
  const { port } = await start(t, { path: "/rt/io" });
  const res = await get(port, "/rt/io/socket.io.esm.min.js");
  assertBundleHeaders(res, "socket.io.esm.min.js");
  assert.ok(res.body.equals(file("socket.io.esm.min.js")));
  // The default path is now the application's.
  const other = await get(port, "/socket.io/socket.io.js");
  assert.equal(other.status, 200);
  assert.equal(other.body.toString(), "app /socket.io/socket.io.js");
});

test("the HTTP server's other routes are unaffected", async (t) => {
  const { port } = await start(t);
  for (const path of ["/", "/other", "/socket.io.js", "/socket.iox/socket.io.js", "/static/socket.io/socket.io.js"]) {
    const res = await get(port, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.body.toString(), "app " + path);
    assert.equal(res.headers.etag, undefined, path);
  }
  // The engine still answers its own requests on the same path.
  const handshake = await get(port, "/socket.io/?EIO=4&transport=polling");
  assert.equal(handshake.status, 200);
  assert.match(handshake.body.toString(), /^0\{"sid":"/);
});

test("a server attached later serves the files; serveClient(false) before attaching does not", async (t) => {
  const http = createServer();
  const io = new Server({ path: "/late" });
  io.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    http.closeAllConnections();
    await io.close();
  });
  const res = await get((http.address() as AddressInfo).port, "/late/socket.io.js", { "Accept-Encoding": "gzip" });
  assertBundleHeaders(res, "socket.io.js");
  assert.ok(zlib.gunzipSync(res.body).equals(file("socket.io.js")));

  const http2 = createServer();
  const io2 = new Server();
  io2.serveClient(false);
  io2.attach(http2);
  await new Promise<void>((resolve) => http2.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    http2.closeAllConnections();
    await io2.close();
  });
  const refused = await get((http2.address() as AddressInfo).port, "/socket.io/socket.io.js");
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.etag, undefined);
});

test("with the cors option the files carry the CORS headers", async (t) => {
  const { port } = await start(t, { cors: { origin: "https://app.example" } });
  const res = await get(port, "/socket.io/socket.io.min.js", { Origin: "https://app.example" });
  assertBundleHeaders(res, "socket.io.min.js");
  assert.equal(res.headers["access-control-allow-origin"], "https://app.example");
  // The CORS middleware's Vary survives (the official server sends "Vary: Origin").
  assert.match(String(res.headers.vary), /(^|, )Origin(,|$)/);
  const plain = await start(t);
  const noCors = await get(plain.port, "/socket.io/socket.io.min.js", { Origin: "https://app.example" });
  assert.equal(noCors.headers["access-control-allow-origin"], undefined);
});

test("compressing a bundle for its first request does not hold the server's other requests back", async (t) => {
  const { port, http } = await start(t);
  // The largest source map with brotli at its best quality: ~0.4 s of compression. Done on the
  // event loop, the polling handshake sent once the server has the map's request would wait
  // for it and be answered after it.
  const order: string[] = [];
  const mapSeen = new Promise<void>((resolve) => http.on("request", (req) => req.url?.includes(".map") && resolve()));
  const map = get(port, "/socket.io/socket.io.js.map", { "Accept-Encoding": "br" }).then((res) => {
    order.push("map");
    return res;
  });
  await within(mapSeen, T, "map request");
  const handshake = get(port, "/socket.io/?EIO=4&transport=polling").then((res) => {
    order.push("handshake");
    return res;
  });
  const [mapRes, handshakeRes] = await Promise.all([map, handshake]);
  assert.equal(handshakeRes.status, 200);
  assert.ok(zlib.brotliDecompressSync(mapRes.body).equals(file("socket.io.js.map")));
  assert.deepEqual(order, ["handshake", "map"]);
});
