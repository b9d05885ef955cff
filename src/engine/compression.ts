import * as zlib from "node:zlib";
import type { HttpEncoding } from "../internal/accept-encoding";

export interface HttpCompressionOptions extends zlib.ZlibOptions {
  /** Smallest response body, in bytes, that is compressed. @default 1024 */
  threshold?: number;
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
