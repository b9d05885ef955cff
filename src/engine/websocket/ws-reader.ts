import { isUtf8 } from "node:buffer";
import { EventEmitter } from "node:events";
import { unmask } from "./ws-mask";
import {
  CLOSE_ABNORMAL,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL_ERROR,
  FIN_BIT,
  FIRST_CONTROL_OPCODE,
  MASK_BIT,
  MAX_CONTROL_PAYLOAD,
  PAYLOAD_LENGTH_MASK,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_MASK,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  RSV1_BIT,
  RSV2_RSV3_BITS,
} from "./constants";

/**
 * Reads the frames a WebSocket client sends (RFC 6455 §5), without permessage-deflate:
 * bytes in, whole messages and control frames out to the subclass's handlers. No I/O.
 *
 * Chunks that hold whole frames (the common case) are read in place: payloads are unmasked
 * where they lie and handed on as views or strings, never copied. A frame split across
 * chunks waits in a list until its last byte arrives, then is joined once.
 *
 * The refusals and their close codes are those of `ws`, so a client sees the same close
 * frame whichever of the two serves it.
 *
 * An EventEmitter only so that the connection built on it can be listened to like a `ws`
 * WebSocket; the reader itself emits nothing.
 */
export abstract class FrameReader extends EventEmitter {
  /** Bytes of an unfinished frame: one chunk, or several while a large one arrives. */
  private rest: Buffer | Buffer[] | undefined = undefined;
  private restLength = 0;
  /** How many bytes the unfinished frame needs before it can be read further. */
  private needed = 0;
  /** Opcode of the message being reassembled from fragments, 0 when none is. */
  private fragmentOpcode = 0;
  private fragments: Buffer[] | undefined = undefined;
  private fragmentsLength = 0;
  /** Set once a close frame or an error ends the stream: later bytes are ignored. */
  private stopped = false;

  /** Largest message accepted, in bytes; 0 for no limit. */
  protected abstract readonly maxPayload: number;

  protected abstract onText(text: string): void;
  protected abstract onBinary(data: Buffer): void;
  protected abstract onPing(payload: Buffer): void;
  protected abstract onPong(payload: Buffer): void;
  /** `code` is 1005 when the frame carried none. */
  protected abstract onCloseFrame(code: number, reason: string): void;
  protected abstract onFrameError(error: WebSocketFrameError): void;

  /** Feeds bytes from the socket. */
  read(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.rest === undefined) {
      this.readFrames(chunk);
      return;
    }
    if (Buffer.isBuffer(this.rest)) this.rest = [this.rest, chunk];
    else this.rest.push(chunk);
    this.restLength += chunk.length;
    if (this.restLength < this.needed) return;
    const joined = Buffer.concat(this.rest, this.restLength);
    this.rest = undefined;
    this.restLength = 0;
    this.readFrames(joined);
  }

  /** No more frames are read (after a close frame, an error, or when the socket goes). */
  stopReading(): void {
    this.stopped = true;
    this.rest = this.fragments = undefined;
  }

  get readingStopped(): boolean {
    return this.stopped;
  }

  private readFrames(buf: Buffer): void {
    const end = buf.length;
    let offset = 0;
    // Bytes the frame at `offset` needs before it can be read further.
    let needed = 2;
    while (!this.stopped) {
      const available = end - offset;
      if (available < 2) {
        needed = 2;
        break;
      }
      const b0 = buf[offset];
      const b1 = buf[offset + 1];
      const fin = (b0 & FIN_BIT) !== 0;
      const opcode = b0 & OPCODE_MASK;
      if (!this.checkFirstByte(b0, fin, opcode)) return;
      let length = b1 & PAYLOAD_LENGTH_MASK;
      // A control frame's 7-bit length must be the real one (126 and 127 announce more than 125).
      if (opcode >= FIRST_CONTROL_OPCODE && (length > MAX_CONTROL_PAYLOAD || (opcode === OPCODE_CLOSE && length === 1))) {
        return void this.fail(CLOSE_PROTOCOL_ERROR, `invalid payload length ${length}`, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH");
      }
      if ((b1 & MASK_BIT) === 0) return void this.fail(CLOSE_PROTOCOL_ERROR, "MASK must be set", "WS_ERR_EXPECTED_MASK");
      let header = 6;
      if (length === 126) {
        header = 8;
        if (available < 4) {
          needed = 4;
          break;
        }
        length = buf.readUInt16BE(offset + 2);
      } else if (length === 127) {
        header = 14;
        if (available < 10) {
          needed = 10;
          break;
        }
        const high = buf.readUInt32BE(offset + 2);
        // Above 2^53 - 1 a JavaScript number cannot hold the length.
        if (high > 0x1fffff) {
          return void this.fail(CLOSE_MESSAGE_TOO_BIG, "Unsupported WebSocket frame: payload length > 2^53 - 1", "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", false);
        }
        length = high * 0x100000000 + buf.readUInt32BE(offset + 6);
      }
      if (opcode < FIRST_CONTROL_OPCODE && this.maxPayload > 0 && this.fragmentsLength + length > this.maxPayload) {
        return void this.fail(CLOSE_MESSAGE_TOO_BIG, "Max payload size exceeded", "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", false);
      }
      if (available < header + length) {
        // Wait for the rest; the header is read (and checked) again then.
        needed = header + length;
        break;
      }
      const start = offset + header;
      offset = start + length;
      if (length > 0) unmask(buf, start - 4, start, offset);
      this.onFrame(fin, opcode, buf, start, offset);
    }
    if (this.stopped || offset === end) return;
    this.rest = offset === 0 ? buf : buf.subarray(offset);
    this.restLength = end - offset;
    this.needed = needed;
  }

  /** RSV bits, opcode and fragmentation rules; false when the frame was refused. */
  private checkFirstByte(b0: number, fin: boolean, opcode: number): boolean {
    if ((b0 & RSV2_RSV3_BITS) !== 0) return this.fail(CLOSE_PROTOCOL_ERROR, "RSV2 and RSV3 must be clear", "WS_ERR_UNEXPECTED_RSV_2_3");
    if ((b0 & RSV1_BIT) !== 0) return this.fail(CLOSE_PROTOCOL_ERROR, "RSV1 must be clear", "WS_ERR_UNEXPECTED_RSV_1");
    if (opcode === OPCODE_CONTINUATION) {
      if (this.fragmentOpcode === 0) return this.fail(CLOSE_PROTOCOL_ERROR, "invalid opcode 0", "WS_ERR_INVALID_OPCODE");
      return true;
    }
    if (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) {
      if (this.fragmentOpcode !== 0) return this.fail(CLOSE_PROTOCOL_ERROR, `invalid opcode ${opcode}`, "WS_ERR_INVALID_OPCODE");
      return true;
    }
    if (opcode === OPCODE_CLOSE || opcode === OPCODE_PING || opcode === OPCODE_PONG) {
      if (!fin) return this.fail(CLOSE_PROTOCOL_ERROR, "FIN must be set", "WS_ERR_EXPECTED_FIN");
      return true;
    }
    return this.fail(CLOSE_PROTOCOL_ERROR, `invalid opcode ${opcode}`, "WS_ERR_INVALID_OPCODE");
  }

  private onFrame(fin: boolean, opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode >= FIRST_CONTROL_OPCODE) return this.onControlFrame(opcode, buf.subarray(start, end));
    if (opcode !== OPCODE_CONTINUATION && fin) return this.onMessage(opcode, buf, start, end);
    // A fragment: the first one names the message's opcode, continuations add to it.
    if (opcode !== OPCODE_CONTINUATION) this.fragmentOpcode = opcode;
    if (end > start) {
      (this.fragments ??= []).push(buf.subarray(start, end));
      this.fragmentsLength += end - start;
    }
    if (!fin) return;
    const message = this.fragments === undefined ? Buffer.alloc(0) : Buffer.concat(this.fragments, this.fragmentsLength);
    const messageOpcode = this.fragmentOpcode;
    this.fragments = undefined;
    this.fragmentsLength = 0;
    this.fragmentOpcode = 0;
    this.onMessage(messageOpcode, message, 0, message.length);
  }

  private onMessage(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === OPCODE_BINARY) {
      this.onBinary(buf.subarray(start, end));
      return;
    }
    const text = buf.toString("utf8", start, end);
    // Malformed UTF-8 always decodes to U+FFFD; only then is the exact check needed.
    if (text.includes("\ufffd") && !isUtf8(buf.subarray(start, end))) {
      this.fail(CLOSE_INVALID_PAYLOAD, "invalid UTF-8 sequence", "WS_ERR_INVALID_UTF8");
      return;
    }
    this.onText(text);
  }

  private onControlFrame(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE_PING) return this.onPing(payload);
    if (opcode === OPCODE_PONG) return this.onPong(payload);
    if (payload.length === 0) {
      this.stopReading();
      return this.onCloseFrame(CLOSE_NO_STATUS, "");
    }
    const code = payload.readUInt16BE(0);
    if (!isValidCloseCode(code)) return void this.fail(CLOSE_PROTOCOL_ERROR, `invalid status code ${code}`, "WS_ERR_INVALID_CLOSE_CODE");
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) return void this.fail(CLOSE_INVALID_PAYLOAD, "invalid UTF-8 sequence", "WS_ERR_INVALID_UTF8");
    this.stopReading();
    this.onCloseFrame(code, reason.toString("utf8"));
  }

  private fail(closeCode: number, message: string, code: string, framePrefix = true): false {
    this.stopReading();
    this.onFrameError(new WebSocketFrameError(framePrefix ? `Invalid WebSocket frame: ${message}` : message, code, closeCode));
    return false;
  }
}

/** A protocol violation by the client; `closeCode` is what the server's close frame carries. */
export class WebSocketFrameError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

/** Close codes a peer may send (RFC 6455 §7.4; 1004-1006 and 1015 are never sent). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== CLOSE_NO_STATUS && code !== CLOSE_ABNORMAL) || (code >= 3000 && code <= 4999);
}
