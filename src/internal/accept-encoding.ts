/**
 * Accept-Encoding negotiation, as the official servers' `accepts` settles it: used by the
 * engine (polling responses) and by the socket layer (the client bundle).
 */

export type HttpEncoding = "gzip" | "deflate";

/** What the engine compresses polling responses with, in the order ties are settled. */
const ENGINE_ENCODINGS: readonly HttpEncoding[] = ["gzip", "deflate"];

/**
 * Picks one of `supported` from an Accept-Encoding header, or nothing, the way the official
 * servers' `accepts` does: each encoding takes the q of its own entry, else of `*` (so
 * `*, gzip;q=0` refuses gzip); the higher q wins, then an exact name over `*`, then the entry
 * written first, then the earlier in `supported`. Parsed by hand: the header is untrusted and
 * may be long. The engine offers gzip and deflate; the client bundle also br.
 */
export function chooseEncoding(header: string | string[] | undefined): HttpEncoding | undefined;
export function chooseEncoding<T extends string>(header: string | string[] | undefined, supported: readonly T[]): T | undefined;
export function chooseEncoding(header: string | string[] | undefined, supported: readonly string[] = ENGINE_ENCODINGS): string | undefined {
  if (typeof header !== "string" || header.length === 0 || header.length > 1024) return undefined;
  const matches: EncodingMatch[] = supported.map(() => ({ q: 0, exact: false, position: -1 }));
  const parts = header.split(",");
  for (let position = 0; position < parts.length; position++) {
    const part = parts[position];
    const semi = part.indexOf(";");
    const name = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    const index = name === "*" ? -1 : supported.indexOf(name);
    if (name !== "*" && index === -1) continue;
    const entry: EncodingMatch = { q: semi === -1 ? 1 : qValue(part.slice(semi + 1)), exact: name !== "*", position };
    for (let i = 0; i < matches.length; i++) if (index === -1 || index === i) applyEntry(matches[i], entry);
  }
  let best = -1;
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i];
    if (m.q <= 0) continue;
    if (best === -1) {
      best = i;
      continue;
    }
    const b = matches[best];
    const better = m.q !== b.q ? m.q > b.q : m.exact !== b.exact ? m.exact : m.position < b.position;
    if (better) best = i;
  }
  return best === -1 ? undefined : supported[best];
}

/** The Accept-Encoding entry that applies to one encoding. */
interface EncodingMatch {
  q: number;
  exact: boolean;
  position: number;
}

/** An exact entry beats `*`; between equally specific ones the higher q, then the later one, applies. */
function applyEntry(current: EncodingMatch, entry: EncodingMatch): void {
  if (entry.exact === current.exact ? entry.q >= current.q : entry.exact) {
    current.q = entry.q;
    current.exact = entry.exact;
    current.position = entry.position;
  }
}

/** The first `q=` parameter among `;`-separated params; malformed or out of [0, 1] counts as 0. */
function qValue(params: string): number {
  for (const param of params.split(";")) {
    const p = param.trim();
    if (!p.startsWith("q=")) continue;
    const q = Number(p.slice(2));
    return q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}
