/**
 * Server-to-client WebSocket frame headers (RFC 6455 §5.2): FIN set, no mask, no RSV bits.
 * Pure functions. Building frames ourselves lets a flush write many frames as one buffer.
 */

import { FIN_BIT, OPCODE_TEXT } from "./constants";

export { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT } from "./constants";

export function frameHeaderSize(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/** Writes the header of an unmasked final frame at `offset`; returns the offset after it. */
export function writeFrameHeader(target: Buffer, offset: number, opcode: number, payloadLength: number): number {
  target[offset] = FIN_BIT | opcode;
  if (payloadLength < 126) {
    target[offset + 1] = payloadLength;
    return offset + 2;
  }
  if (payloadLength < 0x10000) {
    target[offset + 1] = 126;
    target.writeUInt16BE(payloadLength, offset + 2);
    return offset + 4;
  }
  target[offset + 1] = 127;
  target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), offset + 2);
  target.writeUInt32BE(payloadLength >>> 0, offset + 6);
  return offset + 10;
}

/** One whole text frame in one buffer of exactly its size. */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(frameHeaderSize(length) + length);
  frame.write(text, writeFrameHeader(frame, 0, OPCODE_TEXT, length));
  return frame;
}

/** One whole frame in one buffer. */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const size = frameHeaderSize(payload.length);
  const frame = Buffer.allocUnsafe(size + payload.length);
  writeFrameHeader(frame, 0, opcode, payload.length);
  payload.copy(frame, size);
  return frame;
}
