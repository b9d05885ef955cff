import parser from "./dist/parser/index.js";
export const { protocol, PacketType, RESERVED_EVENTS, Encoder, Decoder, isPacketValid, ParserError, ParserErrorCode } = parser;
export default parser;
