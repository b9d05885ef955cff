import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";
import { chooseEncoding } from "./internal/accept-encoding";

/** The client bundles shipped with the package (copied from socket.io-client at build time). */
const FILES: ReadonlySet<string> = new Set([
  "socket.io.js",
  "socket.io.js.map",
  "socket.io.min.js",
  "socket.io.min.js.map",
  "socket.io.esm.min.js",
  "socket.io.esm.min.js.map",
  "socket.io.msgpack.min.js",
  "socket.io.msgpack.min.js.map",
]);

type Encoding = "br" | "gzip" | "deflate" | "identity";

/** What the bundles are served compressed with, in the order ties are settled (as socket.io). */
const BUNDLE_ENCODINGS = ["br", "gzip", "deflate"] as const;

const CLIENT_DIR = join(__dirname, "client-dist");

/**
 * Serves the browser client under `{path}/`: ETag from this package's version (as socket.io,
 * whose ETag is its own version: the bundles change only with a release), 304 on a
 * matching If-None-Match, br/gzip/deflate per Accept-Encoding (compressed once, kept in
 * memory), 400 for a bundle name that does not exist. Reading and compressing run off the
 * event loop: brotli at its best quality takes ~0.4 s for the largest source map, which would
 * otherwise stall every connection of the process on the first request for it.
 */
export class ClientFiles {
  private readonly prefix: string;
  private readonly etag: string;
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(path: string) {
    this.prefix = path + "/";
    this.etag = `"${bundleVersions().server}"`;
  }

  /** Whether `url` names a client bundle (existing or not) under the path. */
  matches(url: string | undefined): boolean {
    if (!url || !url.startsWith(this.prefix + "socket.io")) return false;
    const name = fileName(url, this.prefix.length);
    return name.endsWith(".js") || name.endsWith(".js.map");
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const name = fileName(req.url ?? "", this.prefix.length);
    if (!FILES.has(name) || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: 3, message: "Bad request" }));
      return;
    }
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch === this.etag || ifNoneMatch === "W/" + this.etag) {
      res.writeHead(304);
      res.end();
      return;
    }
    const isMap = name.endsWith(".map");
    const encoding = chooseEncoding(req.headers["accept-encoding"], BUNDLE_ENCODINGS) ?? "identity";
    this.read(name, encoding).then(
      (body) => {
        const headers: Record<string, string | number> = {
          "Cache-Control": "public, max-age=0",
          "Content-Type": `application/${isMap ? "json" : "javascript"}; charset=utf-8`,
          ETag: this.etag,
          // Added to what the CORS middleware may have set (Vary: Origin), not in its place.
          Vary: appendVary(res.getHeader("Vary"), "Accept-Encoding"),
          "Content-Length": body.length,
        };
        if (encoding !== "identity") headers["Content-Encoding"] = encoding;
        res.writeHead(200, headers);
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  }

  /** The file in `encoding`, read and compressed once; a failure is tried again next time. */
  private read(name: string, encoding: Encoding): Promise<Buffer> {
    const key = name + ":" + encoding;
    let body = this.cache.get(key);
    if (body) return body;
    body = encoding === "identity" ? readFile(join(CLIENT_DIR, name)) : this.read(name, "identity").then(COMPRESS[encoding]);
    this.cache.set(key, body);
    body.catch(() => this.cache.delete(key));
    return body;
  }
}

/** The compressors, run on libuv's thread pool; brotli at its default (best) quality. */
const COMPRESS: Record<Exclude<Encoding, "identity">, (raw: Buffer) => Promise<Buffer>> = {
  br: promisify(zlib.brotliCompress),
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
};

function appendVary(current: number | string | string[] | undefined, field: string): string {
  const list = Array.isArray(current) ? current.join(", ") : current === undefined ? "" : String(current);
  return list === "" ? field : `${list}, ${field}`;
}

function fileName(url: string, start: number): string {
  const mark = url.indexOf("?", start);
  return url.slice(start, mark === -1 ? undefined : mark);
}

let versions: { version: string; server: string } | undefined;

/** The bundled client's version and this package's, written next to the bundles by the build. */
export function bundleVersions(): { version: string; server: string } {
  if (versions === undefined) {
    const file = join(CLIENT_DIR, "version.json");
    const read = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { version: string; server?: string }) : undefined;
    versions = { version: read?.version ?? "0.0.0", server: read?.server ?? "0.0.0" };
  }
  return versions;
}
