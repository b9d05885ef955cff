/**
 * Why a Socket.IO socket disconnected, as the official server names it; these strings
 * reach applications in `disconnecting` and `disconnect`.
 */
export const DisconnectReasons = {
  TRANSPORT_ERROR: "transport error",
  TRANSPORT_CLOSE: "transport close",
  FORCED_CLOSE: "forced close",
  PING_TIMEOUT: "ping timeout",
  PARSE_ERROR: "parse error",
  SERVER_SHUTTING_DOWN: "server shutting down",
  FORCED_SERVER_CLOSE: "forced server close",
  CLIENT_NAMESPACE_DISCONNECT: "client namespace disconnect",
  SERVER_NAMESPACE_DISCONNECT: "server namespace disconnect",
} as const;

export type DisconnectReason = (typeof DisconnectReasons)[keyof typeof DisconnectReasons];

/** Reasons after which a client may come back and recover its session. */
export const RECOVERABLE_REASONS: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);
