import type { IncomingMessage } from "node:http";

/**
 * Every session keeps its handshake request (`socket.request`), and Node makes fresh strings
 * for each header name and value of each request. Most of them are the same for nearly every
 * client (a browser sends a dozen headers, only its WebSocket key and cookies its own), so
 * without sharing, 10 000 sessions hold 10 000 copies of each. Strings have no identity in
 * JavaScript: putting one copy of equal strings in place changes nothing but memory.
 *
 * The pool is bounded: a client may send names and values no one else sends. Values known to
 * differ per request are not pooled at all, nor long ones.
 */
const MAX_ENTRIES = 4096;
const MAX_LENGTH = 256;
/** Header names (lowercase) whose values differ from one request to the next. */
const UNIQUE_VALUES = new Set(["sec-websocket-key", "cookie", "authorization", "proxy-authorization"]);

interface HeaderName {
  /** The shared copy of the name, as the client spelt it. */
  readonly name: string;
  readonly poolValue: boolean;
}

const names = new Map<string, HeaderName>();
const values = new Map<string, string>();

function sharedName(raw: string): HeaderName {
  let entry = names.get(raw);
  if (entry === undefined) {
    entry = { name: raw, poolValue: !UNIQUE_VALUES.has(raw.toLowerCase()) };
    if (raw.length > MAX_LENGTH) return entry;
    if (names.size >= MAX_ENTRIES) names.clear();
    names.set(raw, entry);
  }
  return entry;
}

function sharedValue(raw: string): string {
  if (raw.length > MAX_LENGTH) return raw;
  const pooled = values.get(raw);
  if (pooled !== undefined) return pooled;
  if (values.size >= MAX_ENTRIES) values.clear();
  values.set(raw, raw);
  return raw;
}

/**
 * Puts shared copies in place of a kept request's header strings, wherever they are, and of
 * its URL with `url` (not for URLs made unique by a cache-buster or a session id).
 */
export function shareRequestStrings(req: IncomingMessage, url: boolean): void {
  try {
    shareStrings(req, url);
  } catch {
    // Memory only: a request that middlewares made read-only in places stays as it is.
  }
}

function shareStrings(req: IncomingMessage, url: boolean): void {
  if (url && req.url !== undefined) req.url = sharedValue(req.url);
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const entry = sharedName(raw[i]);
    raw[i] = entry.name;
    if (entry.poolValue) raw[i + 1] = sharedValue(raw[i + 1]);
  }
  // `headers` is built from rawHeaders (lazily, on first read) with the same value strings;
  // a value made of several lines is a string of its own and stays as it is.
  const headers = req.headers as Record<string, string | string[] | undefined>;
  for (const key in headers) {
    const value = headers[key];
    if (typeof value !== "string" || value.length > MAX_LENGTH) continue;
    const pooled = values.get(value);
    if (pooled !== undefined) headers[key] = pooled;
  }
}
