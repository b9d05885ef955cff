/**
 * The query of a request URL as an ordinary object (applications read it as
 * `socket.handshake.query` and may call its Object methods). Keys such as `__proto__`
 * become own data properties, never the prototype. A repeated key keeps its last value.
 */
export type Query = Record<string, string>;

export function parseQuery(url: string | undefined): Query {
  if (!url) return {};
  // A raw client may send a `#fragment`; like a URL parser (and engine.io), ignore it.
  const hash = url.indexOf("#");
  const end = hash === -1 ? url.length : hash;
  const mark = url.indexOf("?");
  if (mark === -1 || mark > end) return {};
  const raw = url.slice(mark + 1, end);
  // Escapes need URL decoding: leave those to URLSearchParams. Every request carries a
  // query, so the common plain one (`EIO=4&transport=polling&sid=...`) is split by hand.
  if (raw.includes("%") || raw.includes("+")) {
    // Keep the `?`: URLSearchParams drops one leading `?`, so `??a=1` keeps its key `?a`.
    return Object.fromEntries(new URLSearchParams(url.slice(mark, end)));
  }
  const query: Query = {};
  let start = 0;
  while (start <= raw.length) {
    let amp = raw.indexOf("&", start);
    if (amp === -1) amp = raw.length;
    if (amp > start) {
      const eq = raw.indexOf("=", start);
      const split = eq === -1 || eq > amp ? amp : eq;
      setOwn(query, raw.slice(start, split), split === amp ? "" : shared(raw.slice(split + 1, amp)));
    }
    start = amp + 1;
  }
  return query;
}

/**
 * A session keeps its request's query as long as it lives: the transport names every request
 * repeats are returned as the one literal string rather than a fresh copy per session.
 */
function shared(value: string): string {
  if (value === "websocket") return "websocket";
  if (value === "polling") return "polling";
  return value;
}

/** Assigns as a data property: `query["__proto__"] = v` would set the prototype instead. */
function setOwn(query: Query, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(query, key, { value, writable: true, enumerable: true, configurable: true });
  else query[key] = value;
}

/** Reads a query value only when it is the query's own: `query.constructor` is never a function. */
export function queryValue(query: Query, key: string): string | undefined {
  return Object.hasOwn(query, key) ? query[key] : undefined;
}

/** The session a request is for; an empty `sid` is a handshake, as in engine.io. */
export function sidOf(query: Query): string | undefined {
  const sid = queryValue(query, "sid");
  return sid === "" ? undefined : sid;
}

/** engine.io's rule: revision 4 only when `EIO` says so, revision 3 otherwise (even when missing). */
export function protocolOf(query: Query): 3 | 4 {
  return query.EIO === "4" ? 4 : 3;
}
