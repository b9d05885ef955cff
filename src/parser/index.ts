/**
 * volley-io/parser: the Socket.IO packet codec (protocol revision 5), with the API of
 * socket.io-parser 4.2. Pure: no sockets, timers or I/O.
 */
export { protocol, PacketType, RESERVED_EVENTS } from "./packet";
export type { Packet, JSONReplacer, JSONReviver } from "./packet";
export { Encoder } from "./encoder";
export { Decoder } from "./decoder";
export type { DecoderOptions } from "./decoder";
export { isPacketValid } from "./validate";
export { ParserError, ParserErrorCode } from "./errors";
export type { ParserErrorCodeValue } from "./errors";
