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
  // Keep the `?`: URLSearchParams drops one leading `?`, so `??a=1` keeps its key `?a`.
  return Object.fromEntries(new URLSearchParams(url.slice(mark, end)));
}

/** Reads a query value only when it is the query's own: `query.constructor` is never a function. */
export function queryValue(query: Query, key: string): string | undefined {
  return Object.hasOwn(query, key) ? query[key] : undefined;
}
