/**
 * Socket.IO packets (protocol revision 5): the types and the packet shape shared by the
 * encoder, the decoder and the socket layer. Names follow socket.io-parser 4.2.
 */

/** Socket.IO protocol revision spoken by this parser. */
export const protocol = 5;

export enum PacketType {
  CONNECT = 0,
  DISCONNECT = 1,
  EVENT = 2,
  ACK = 3,
  CONNECT_ERROR = 4,
  BINARY_EVENT = 5,
  BINARY_ACK = 6,
}

export interface Packet {
  type: PacketType;
  nsp: string;
  /**
   * The payload. `unknown` on purpose: the decoder has validated its shape per type
   * (see validate.ts), and the socket layer narrows it where it reads it.
   */
  data?: unknown;
  id?: number;
  /** Binary attachment count; only set on BINARY_EVENT / BINARY_ACK packets being encoded. */
  attachments?: number;
}

/** Second argument of `JSON.stringify`, passed through by the Encoder. */
export type JSONReplacer = (this: unknown, key: string, value: unknown) => unknown;

/** Second argument of `JSON.parse`, passed through by the Decoder. */
export type JSONReviver = (this: unknown, key: string, value: unknown) => unknown;

/**
 * Event names a peer may never send: the client library uses them for its own
 * lifecycle, and the server's sockets are Node EventEmitters. The socket layer refuses to
 * emit the same names (socket-types.ts reads this set; there is no other copy).
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);
