import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";

type HeaderValue = string | number | readonly string[];

/**
 * Stands in for a ServerResponse while middlewares run on a WebSocket upgrade request.
 * Headers they set are added to the 101 response; a middleware that ends the response
 * refuses the upgrade with its status.
 */
export class UpgradeResponse {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableEnded = false;
  /** Made on the first header set: most upgrades pass no middleware that sets one. */
  private headers: Map<string, { name: string; value: HeaderValue }> | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly socket: Duplex,
  ) {}

  /** Validates like ServerResponse does: these lines are written to the socket by hand. */
  setHeader(name: string, value: HeaderValue): this {
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    (this.headers ??= new Map()).set(name.toLowerCase(), { name, value });
    return this;
  }

  getHeader(name: string): string | number | string[] | undefined {
    const value = this.headers?.get(name.toLowerCase())?.value;
    return Array.isArray(value) ? [...value] : (value as string | number | undefined);
  }

  hasHeader(name: string): boolean {
    return this.headers?.has(name.toLowerCase()) ?? false;
  }

  removeHeader(name: string): void {
    this.headers?.delete(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return this.headers ? [...this.headers.keys()] : [];
  }

  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    if (this.headers) for (const [key, { value }] of this.headers) out[key] = value as string | number | string[];
    return out;
  }

  writeHead(statusCode?: number, headers?: OutgoingHttpHeaders): this {
    if (statusCode !== undefined) this.statusCode = statusCode;
    if (headers) for (const key of Object.keys(headers)) this.setHeader(key, headers[key] as HeaderValue);
    return this;
  }

  /** Header lines for the 101 response. */
  headerLines(): string[] {
    const lines: string[] = [];
    if (this.headers) for (const { name, value } of this.headers.values()) pushHeaderLines(lines, name, value);
    return lines;
  }

  /** A middleware answered the upgrade itself: write its response and drop the connection. */
  end(body?: string | Buffer): this {
    if (this.writableEnded) return this;
    this.writableEnded = this.headersSent = true;
    const lines = this.headerLines().filter((l) => !/^content-length:/i.test(l));
    lines.push("Connection: close");
    endRawResponse(this.socket, this.statusCode === 200 ? 400 : this.statusCode, lines, body ?? "");
    return this;
  }
}

/** Appends one header's "Name: value" lines to `lines`: one line per value of an array. */
export function pushHeaderLines(lines: string[], name: string, value: HeaderValue | undefined): void {
  if (Array.isArray(value)) for (const v of value) lines.push(`${name}: ${v}`);
  else if (value !== undefined) lines.push(`${name}: ${String(value)}`);
}

/**
 * Answers an upgrade request's raw socket with a whole HTTP response (`headerLines`, then
 * `Content-Length`, then `afterLength`) and drops the connection once it is written.
 */
export function endRawResponse(
  socket: Duplex,
  status: number,
  headerLines: readonly string[],
  body: string | Buffer,
  afterLength: readonly string[] = [],
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`;
  for (const line of headerLines) head += line + "\r\n";
  head += `Content-Length: ${length}\r\n`;
  for (const line of afterLength) head += line + "\r\n";
  head += "\r\n";
  socket.end(Buffer.concat([Buffer.from(head), typeof body === "string" ? Buffer.from(body) : body]), () => socket.destroy());
}
