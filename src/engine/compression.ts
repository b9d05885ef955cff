import * as zlib from "node:zlib";

export type HttpEncoding = "gzip" | "deflate";

export interface HttpCompressionOptions extends zlib.ZlibOptions {
  /** Smallest response body, in bytes, that is compressed. @default 1024 */
  threshold?: number;
}

/**
 * Picks gzip or deflate from an Accept-Encoding header by q-value (gzip wins ties),
 * or nothing. Parsed by hand: the header is untrusted and may be long.
 */
export function chooseEncoding(header: string | string[] | undefined): HttpEncoding | undefined {
  if (typeof header !== "string" || header.length === 0 || header.length > 1024) return undefined;
  let best: HttpEncoding | undefined;
  let bestQ = 0;
  for (const part of header.split(",")) {
    const semi = part.indexOf(";");
    const name = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (name !== "gzip" && name !== "deflate" && name !== "*") continue;
    let q = 1;
    if (semi !== -1) {
      const param = part.slice(semi + 1).trim();
      if (param.startsWith("q=")) {
        q = Number(param.slice(2));
        if (!(q >= 0 && q <= 1)) q = 0;
      }
    }
    const encoding: HttpEncoding = name === "deflate" ? "deflate" : "gzip";
    if (q > bestQ || (q === bestQ && q > 0 && encoding === "gzip")) {
      best = encoding;
      bestQ = q;
    }
  }
  return bestQ > 0 ? best : undefined;
}

export function compress(
  encoding: HttpEncoding,
  body: Buffer,
  options: zlib.ZlibOptions,
  callback: (err: Error | null, result: Buffer) => void,
): void {
  if (encoding === "gzip") zlib.gzip(body, options, callback);
  else zlib.deflate(body, options, callback);
}
