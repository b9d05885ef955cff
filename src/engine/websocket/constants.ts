/**
 * RFC 6455 numbers, named once: opcodes, header bits, close codes and the `readyState`
 * values a WebSocket reports (those of the `ws` package and browsers).
 */

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;
/** Low four bits of the first header byte. */
export const OPCODE_MASK = 0x0f;
/** Opcodes from this one on are control frames (close, ping, pong). */
export const FIRST_CONTROL_OPCODE = 0x8;
/** A control frame's payload is at most this long. */
export const MAX_CONTROL_PAYLOAD = 125;

/** First header byte: FIN, RSV1 (permessage-deflate, which this reader does not take), RSV2 and RSV3. */
export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
export const RSV2_RSV3_BITS = 0x30;
/** Second header byte: MASK, set on every client frame, and the 7-bit payload length. */
export const MASK_BIT = 0x80;
export const PAYLOAD_LENGTH_MASK = 0x7f;

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
/** Received without a status code: never sent. */
export const CLOSE_NO_STATUS = 1005;
/** Closed without a close frame: never sent. */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_PAYLOAD = 1007;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
