/**
 * Engine.IO refusal codes. Each code has one message and one HTTP status; the
 * JSON body `{"code":N,"message":"..."}` is what the official clients parse.
 */
export const ErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorMessages = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
} as const;

/** Only `allowRequest` refusals are 403; everything else the client got wrong is 400. */
export function statusOf(code: ErrorCodeValue): 400 | 403 {
  return code === ErrorCode.FORBIDDEN ? 403 : 400;
}

/** The JSON body of a refusal: `{"code":N,"message":"..."}`, the code's own message unless given. */
export function errorJson(code: ErrorCodeValue, message: string = ErrorMessages[code]): string {
  return JSON.stringify({ code, message });
}

/** The JSON body of a refusal: `allowRequest` may word its own (FORBIDDEN); other codes carry their message. */
export function refusalBody(code: ErrorCodeValue, context: ErrorContext): string {
  return errorJson(code, code === ErrorCode.FORBIDDEN && typeof context.message === "string" ? context.message : ErrorMessages[code]);
}

/** Extra detail passed with a refusal to `connection_error` listeners. */
export type ErrorContext = Record<string, unknown> & { name?: string; message?: string };

/**
 * Why an engine socket closed, as the official server names it. These strings reach
 * applications through `socket.on("close")` and the Socket.IO disconnect reasons.
 */
export const CloseReason = {
  TRANSPORT_CLOSE: "transport close",
  TRANSPORT_ERROR: "transport error",
  PING_TIMEOUT: "ping timeout",
  PARSE_ERROR: "parse error",
  FORCED_CLOSE: "forced close",
  FORCED_SERVER_CLOSE: "forced server close",
} as const;

export type CloseReasonValue = (typeof CloseReason)[keyof typeof CloseReason];
