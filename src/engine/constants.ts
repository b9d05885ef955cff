/**
 * The engine's shared numbers and strings, named once. RFC 6455 numbers are in
 * websocket/constants.ts; refusal codes and close reasons in errors.ts.
 */

/** Smallest body, in bytes, that is compressed (polling responses, permessage-deflate messages) unless `threshold` says otherwise. */
export const COMPRESSION_THRESHOLD = 1024;

/** The content type of every JSON refusal body. */
export const JSON_CONTENT_TYPE = "application/json";
