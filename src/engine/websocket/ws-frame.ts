/**
 * Server-to-client WebSocket frame headers (RFC 6455 §5.2): FIN set, no mask, no RSV bits.
 * Pure functions. Building frames ourselves lets a flush write many frames as one buffer.
 */

export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

export function frameHeaderSize(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/** Writes the header of an unmasked final frame at `offset`; returns the offset after it. */
export function writeFrameHeader(target: Buffer, offset: number, opcode: number, payloadLength: number): number {
  target[offset] = 0x80 | opcode;
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
