import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * CORS as the `cors` package understands its options, so that `cors: {...}` settings
 * written for socket.io mean the same here. No headers at all unless `cors` is set.
 */
export type StaticOrigin = boolean | string | RegExp | Array<boolean | string | RegExp>;
export type CustomOrigin = (
  requestOrigin: string | undefined,
  callback: (err: Error | null, origin?: StaticOrigin) => void,
) => void;

export interface CorsOptions {
  /** @default "*" */
  origin?: StaticOrigin | CustomOrigin;
  /** @default "GET,HEAD,PUT,PATCH,POST,DELETE" */
  methods?: string | string[];
  /** Defaults to reflecting the preflight's Access-Control-Request-Headers. */
  allowedHeaders?: string | string[];
  /** Alias of `allowedHeaders`, as the `cors` package takes it. */
  headers?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
  maxAge?: number;
  /** Pass preflight requests on instead of answering them. @default false */
  preflightContinue?: boolean;
  /** @default 204 */
  optionsSuccessStatus?: number;
}

export type CorsOptionsDelegate<Req = IncomingMessage> = (
  req: Req,
  callback: (err: Error | null, options?: CorsOptions) => void,
) => void;

/** The subset of ServerResponse that CORS needs: also provided for WebSocket upgrades. */
export interface HeaderSink {
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  getHeader(name: string): string | number | string[] | undefined;
  statusCode: number;
  end(): unknown;
}

type Next = (err?: unknown) => void;

const DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE";

/** @internal The `cors` option as a middleware; also used by the socket layer for the client bundle. */
export function corsMiddleware(config: CorsOptions | CorsOptionsDelegate) {
  return function cors(req: IncomingMessage, res: ServerResponse | HeaderSink, next: Next): void {
    const withOptions = (options: CorsOptions) => {
      const requestOrigin = req.headers.origin;
      const origin = options.origin ?? "*";
      if (typeof origin === "function") {
        origin(requestOrigin, (err, resolved) => {
          if (err || resolved === undefined || resolved === false) return next(err ?? undefined);
          apply(req, res as HeaderSink, { ...options, origin: resolved }, next);
        });
        return;
      }
      if (origin === false) return next();
      apply(req, res as HeaderSink, options, next);
    };
    if (typeof config === "function") {
      config(req, (err, options) => (err ? next(err) : withOptions(options ?? {})));
    } else {
      withOptions(config);
    }
  };
}

function apply(req: IncomingMessage, res: HeaderSink, options: CorsOptions, next: Next): void {
  setOrigin(req, res, options.origin as StaticOrigin);
  if (options.credentials === true) res.setHeader("Access-Control-Allow-Credentials", "true");
  const exposed = join(options.exposedHeaders);
  if (req.method !== "OPTIONS") {
    if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
    return next();
  }
  res.setHeader("Access-Control-Allow-Methods", join(options.methods) ?? DEFAULT_METHODS);
  const allowed = join(options.allowedHeaders ?? options.headers);
  if (allowed !== undefined) {
    if (allowed) res.setHeader("Access-Control-Allow-Headers", allowed);
  } else {
    const requested = req.headers["access-control-request-headers"];
    if (requested) res.setHeader("Access-Control-Allow-Headers", requested);
    vary(res, "Access-Control-Request-Headers");
  }
  if (typeof options.maxAge === "number") res.setHeader("Access-Control-Max-Age", String(options.maxAge));
  if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
  if (options.preflightContinue) return next();
  res.statusCode = options.optionsSuccessStatus ?? 204;
  res.setHeader("Content-Length", "0");
  res.end();
}

function setOrigin(req: IncomingMessage, res: HeaderSink, origin: StaticOrigin): void {
  if (origin === "*" || origin === undefined) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  if (typeof origin === "string") {
    res.setHeader("Access-Control-Allow-Origin", origin);
    vary(res, "Origin");
    return;
  }
  const requestOrigin = req.headers.origin;
  if (requestOrigin !== undefined && isAllowed(requestOrigin, origin)) {
    res.setHeader("Access-Control-Allow-Origin", requestOrigin);
  }
  vary(res, "Origin");
}

function isAllowed(requestOrigin: string, allowed: StaticOrigin): boolean {
  if (Array.isArray(allowed)) return allowed.some((entry) => isAllowed(requestOrigin, entry));
  if (typeof allowed === "string") return requestOrigin === allowed;
  if (allowed instanceof RegExp) {
    allowed.lastIndex = 0;
    return allowed.test(requestOrigin);
  }
  return allowed === true;
}

function join(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}

function vary(res: HeaderSink, field: string): void {
  const current = res.getHeader("Vary");
  const existing = current === undefined ? "" : Array.isArray(current) ? current.join(", ") : String(current);
  if (existing === "*") return;
  const fields = existing.split(",").map((f) => f.trim().toLowerCase());
  if (fields.includes(field.toLowerCase())) return;
  res.setHeader("Vary", existing ? `${existing}, ${field}` : field);
}
