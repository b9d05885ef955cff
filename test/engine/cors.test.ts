/**
 * Volley's CORS (src/engine/cors.ts) against the `cors` package that engine.io uses: the same
 * options and request give the same response headers, status, end of the response and call of
 * `next`, for every option set below crossed with simple and preflight requests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import corsPackage from "cors";
import { corsMiddleware, type CorsOptions, type CorsOptionsDelegate } from "../../src/engine/cors";

type Middleware = (req: IncomingMessage, res: Recorder, next: (err?: unknown) => void) => void;

/** What a middleware did to a response; enough of ServerResponse for both implementations. */
class Recorder {
  statusCode = 200;
  ended = false;
  readonly headers = new Map<string, string | number | readonly string[]>();
  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string): string | number | readonly string[] | undefined {
    return this.headers.get(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }
  end(): this {
    this.ended = true;
    return this;
  }
}

interface Outcome {
  headers: Record<string, string>;
  status: number;
  ended: boolean;
  next: string;
}

function run(middleware: Middleware, method: string, headers: Record<string, string>): Promise<Outcome> {
  const req = { method, headers } as unknown as IncomingMessage;
  const res = new Recorder();
  return new Promise((resolve) => {
    const done = (nextCalled: string) => {
      const sorted = [...res.headers].sort(([a], [b]) => a.localeCompare(b));
      resolve({
        headers: Object.fromEntries(sorted.map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)])),
        status: res.statusCode,
        ended: res.ended,
        next: nextCalled,
      });
    };
    // null and undefined both mean "no error" to the caller of a middleware.
    middleware(req, res, (err) => done(err == null ? "next()" : `next(${String(err)})`));
    if (res.ended) done("no");
  });
}

const deny = new Error("denied");
const OPTION_SETS: Array<[string, CorsOptions | CorsOptionsDelegate]> = [
  ["empty", {}],
  ["origin *", { origin: "*" }],
  ["origin string", { origin: "https://a.example" }],
  ["origin true", { origin: true }],
  ["origin false", { origin: false }],
  ["origin RegExp", { origin: /\.example$/ }],
  ["origin array", { origin: ["https://a.example", /b\.example$/] }],
  ["origin function → true", { origin: (o, cb) => cb(null, true) }],
  ["origin function → string", { origin: (o, cb) => cb(null, "https://fixed.example") }],
  ["origin function → false", { origin: (o, cb) => cb(null, false) }],
  ["origin function → error", { origin: (o, cb) => cb(deny) }],
  [
    "everything",
    {
      origin: "https://a.example",
      methods: ["GET", "POST"],
      allowedHeaders: ["my-header", "x-other"],
      exposedHeaders: "x-exposed",
      credentials: true,
      maxAge: 600,
    },
  ],
  ["methods string, headers string", { methods: "GET,PUT", allowedHeaders: "my-header" }],
  ["empty allowedHeaders", { allowedHeaders: [] }],
  // `headers` is the cors package's other name for allowedHeaders (engine.io's tests use it).
  ["headers alias", { origin: true, headers: ["my-header"], credentials: true } as CorsOptions],
  ["maxAge 0", { maxAge: 0 }],
  ["credentials false", { credentials: false, origin: true }],
  ["preflightContinue", { preflightContinue: true }],
  ["optionsSuccessStatus 200", { optionsSuccessStatus: 200 }],
  ["delegate", (req, cb) => cb(null, { origin: req.headers.origin === "https://a.example", credentials: true })],
  ["delegate error", (req, cb) => cb(deny)],
];

const REQUESTS: Array<[string, string, Record<string, string>]> = [
  ["GET, no origin", "GET", {}],
  ["GET from a.example", "GET", { origin: "https://a.example" }],
  ["POST from b.example", "POST", { origin: "https://b.example" }],
  ["GET from elsewhere", "GET", { origin: "https://evil.test" }],
  ["preflight from a.example", "OPTIONS", { origin: "https://a.example", "access-control-request-method": "POST" }],
  [
    "preflight asking for headers",
    "OPTIONS",
    { origin: "https://b.example", "access-control-request-method": "GET", "access-control-request-headers": "my-header, x-y" },
  ],
  ["preflight from elsewhere", "OPTIONS", { origin: "https://evil.test", "access-control-request-method": "GET" }],
];

test("the same headers, status and next() as the cors package, for every option set and request", async () => {
  const differences: string[] = [];
  for (const [optionsName, options] of OPTION_SETS) {
    const theirs = corsPackage(options as Parameters<typeof corsPackage>[0]) as unknown as Middleware;
    const ours = corsMiddleware(options) as unknown as Middleware;
    for (const [requestName, method, headers] of REQUESTS) {
      const expected = JSON.stringify(await run(theirs, method, headers));
      const actual = JSON.stringify(await run(ours, method, headers));
      if (actual !== expected) differences.push(`${optionsName} / ${requestName}:\n  cors:   ${expected}\n  volley: ${actual}`);
    }
  }
  assert.deepEqual(differences, []);
});
