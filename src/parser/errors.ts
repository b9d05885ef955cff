/**
 * Why the decoder refused its input. Every refusal is a `ParserError` thrown from
 * `Decoder#add()`; the socket layer catches it and closes the client with "parse error".
 */
export const ParserErrorCode = {
  UNKNOWN_CHUNK: "UNKNOWN_CHUNK",
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  ILLEGAL_ATTACHMENTS: "ILLEGAL_ATTACHMENTS",
  TOO_MANY_ATTACHMENTS: "TOO_MANY_ATTACHMENTS",
  INVALID_ACK_ID: "INVALID_ACK_ID",
  INVALID_JSON: "INVALID_JSON",
  INVALID_PAYLOAD: "INVALID_PAYLOAD",
  INVALID_PLACEHOLDER: "INVALID_PLACEHOLDER",
  UNEXPECTED_BINARY: "UNEXPECTED_BINARY",
  UNEXPECTED_TEXT: "UNEXPECTED_TEXT",
} as const;

export type ParserErrorCodeValue = (typeof ParserErrorCode)[keyof typeof ParserErrorCode];

export const ParserErrorMessages: Readonly<Record<ParserErrorCodeValue, string>> = {
  UNKNOWN_CHUNK: "unsupported chunk type (expected a string or binary data)",
  UNKNOWN_TYPE: "unknown packet type",
  // socket.io-parser's words: code matches them (e.g. /Illegal attachments/).
  ILLEGAL_ATTACHMENTS: "Illegal attachments",
  TOO_MANY_ATTACHMENTS: "too many attachments",
  INVALID_ACK_ID: "invalid ack id",
  INVALID_JSON: "invalid JSON payload",
  INVALID_PAYLOAD: "invalid payload for the packet type",
  INVALID_PLACEHOLDER: "invalid binary placeholder",
  UNEXPECTED_BINARY: "got binary data when not reconstructing a packet",
  UNEXPECTED_TEXT: "got plaintext data when reconstructing a packet",
};

export class ParserError extends Error {
  override readonly name = "ParserError";

  constructor(
    readonly code: ParserErrorCodeValue,
    detail?: string,
  ) {
    super(detail ? `${ParserErrorMessages[code]}: ${detail}` : ParserErrorMessages[code]);
  }
}
