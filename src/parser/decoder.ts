/**
 * Decodes Socket.IO packets from Engine.IO messages. Text messages are packets or
 * binary packet headers; each binary message is the next attachment of the pending
 * binary packet. A complete, valid packet is emitted as "decoded"; anything else throws
 * a ParserError from `add()`.
 */
import { EventEmitter } from "node:events";
import { fillPlaceholders, findPlaceholders, isBinary, toBuffer, type PlaceholderSlot } from "./binary";
import { ParserError, ParserErrorCode } from "./errors";
import { PacketType, type JSONReviver, type Packet } from "./packet";
import { isPayloadValid } from "./validate";

export interface DecoderOptions {
  /** Passed to `JSON.parse` for every payload. */
  reviver?: JSONReviver;
  /** Most binary attachments one packet may announce. Default 10. */
  maxAttachments?: number;
}

interface DecoderEvents {
  decoded: [packet: Packet];
}

/** A header longer than this many digits is refused before it is converted. */
const MAX_DIGITS = 16;

/** Attachments one packet may announce unless the Decoder is told otherwise. */
export const DEFAULT_MAX_ATTACHMENTS = 10;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * @internal A binary packet whose header has arrived, waiting for its attachments. The
 * only decoding state there is: text packets decode without any (see `decodeText`).
 */
export class PendingPacket {
  private readonly buffers: Buffer[] = [];

  constructor(
    private readonly packet: Packet,
    private readonly slots: PlaceholderSlot[],
    private readonly count: number,
  ) {}

  /** Takes the next attachment; returns the packet, attachments in place, once all are in. */
  add(buffer: Buffer): Packet | undefined {
    const buffers = this.buffers;
    buffers.push(buffer);
    if (buffers.length < this.count) return undefined;
    fillPlaceholders(this.slots, buffers);
    return this.packet;
  }
}

/**
 * @internal Decodes one text message: a complete packet, or the header of a binary packet
 * (a PendingPacket to feed its attachments). Throws a ParserError on invalid input.
 */
export function decodeText(str: string, reviver: JSONReviver | undefined, maxAttachments: number): Packet | PendingPacket {
  const len = str.length;
  const type = len > 0 ? str.charCodeAt(0) - 48 : -1;
  if (!(type >= PacketType.CONNECT && type <= PacketType.BINARY_ACK)) {
    throw new ParserError(ParserErrorCode.UNKNOWN_TYPE, len > 0 ? JSON.stringify(str[0]) : "empty message");
  }
  const binary = type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK;
  let i = 1;

  // <attachments>-
  let count = 0;
  if (binary) {
    const start = i;
    while (i < len && isDigit(str.charCodeAt(i))) {
      if (i - start >= MAX_DIGITS) throw new ParserError(ParserErrorCode.ILLEGAL_ATTACHMENTS, "count too long");
      i++;
    }
    if (i === start) throw new ParserError(ParserErrorCode.ILLEGAL_ATTACHMENTS, "expected digits");
    if (i === len || str.charCodeAt(i) !== 45 /* - */) {
      throw new ParserError(ParserErrorCode.ILLEGAL_ATTACHMENTS, "expected '-' after the count");
    }
    count = Number(str.slice(start, i));
    if (count < 1) throw new ParserError(ParserErrorCode.ILLEGAL_ATTACHMENTS, "count must be at least 1");
    if (count > maxAttachments) {
      throw new ParserError(ParserErrorCode.TOO_MANY_ATTACHMENTS, `${count} > ${maxAttachments}`);
    }
    i++;
  }

  // <nsp>, (revision 4 clients put a query string in it: "/nsp?x=1")
  let nsp = "/";
  if (i < len && str.charCodeAt(i) === 47 /* / */) {
    // Without a comma the namespace runs to the end, as upstream: python-socketio 4 (an
    // EIO3 client) writes "0/chat" and "1/chat" when neither an id nor data follows.
    const comma = str.indexOf(",", i);
    nsp = str.slice(i, comma === -1 ? len : comma);
    i = comma === -1 ? len : comma + 1;
  }

  // <ack id>: no payload starts with a digit, so the digits run is the whole id.
  let id: number | undefined;
  const idStart = i;
  while (i < len && isDigit(str.charCodeAt(i))) {
    if (i - idStart >= MAX_DIGITS) throw new ParserError(ParserErrorCode.INVALID_ACK_ID, "too long");
    i++;
  }
  if (i > idStart) {
    id = Number(str.slice(idStart, i));
    if (!Number.isSafeInteger(id)) throw new ParserError(ParserErrorCode.INVALID_ACK_ID, "not a safe integer");
  }

  // <JSON>
  let data: unknown;
  if (i < len) {
    try {
      data = JSON.parse(str.slice(i), reviver);
    } catch (err) {
      throw new ParserError(ParserErrorCode.INVALID_JSON, err instanceof Error ? err.message : "reviver threw");
    }
  }
  if (!isPayloadValid(type, data)) throw new ParserError(ParserErrorCode.INVALID_PAYLOAD, PacketType[type]);

  // Binary packets come out as EVENT / ACK once their attachments are back in place.
  const packet: Packet = {
    type: type === PacketType.BINARY_EVENT ? PacketType.EVENT : type === PacketType.BINARY_ACK ? PacketType.ACK : type,
    nsp,
  };
  if (id !== undefined) packet.id = id;
  if (data !== undefined) packet.data = data;
  return binary ? new PendingPacket(packet, findPlaceholders(data, count), count) : packet;
}

/**
 * @internal One Engine.IO message through the decoding states: the complete packet, or the
 * binary packet still waiting for attachments (a new one, or `pending` itself). Throws a
 * ParserError on invalid input. A text message while `pending` waits is refused: the caller
 * drops the pending packet.
 */
export function decodeMessage(
  chunk: unknown,
  pending: PendingPacket | undefined,
  reviver: JSONReviver | undefined,
  maxAttachments: number,
): Packet | PendingPacket {
  if (typeof chunk === "string") {
    if (pending) throw new ParserError(ParserErrorCode.UNEXPECTED_TEXT);
    return decodeText(chunk, reviver, maxAttachments);
  }
  if (!isBinary(chunk)) throw new ParserError(ParserErrorCode.UNKNOWN_CHUNK, typeof chunk);
  if (!pending) throw new ParserError(ParserErrorCode.UNEXPECTED_BINARY);
  return pending.add(toBuffer(chunk)) ?? pending;
}

export class Decoder extends EventEmitter<DecoderEvents> {
  private readonly reviver: JSONReviver | undefined;
  private readonly maxAttachments: number;
  private pending: PendingPacket | undefined;

  constructor(opts?: DecoderOptions | JSONReviver) {
    super();
    const options = typeof opts === "function" ? { reviver: opts } : (opts ?? {});
    this.reviver = options.reviver;
    this.maxAttachments = options.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
  }

  /** Feeds one Engine.IO message. Throws a ParserError on invalid input. */
  add(chunk: string | Buffer | ArrayBuffer | ArrayBufferView): void {
    const pending = this.pending;
    // A text message ends a pending packet, whether or not it decodes.
    if (typeof chunk === "string") this.pending = undefined;
    const decoded = decodeMessage(chunk, pending, this.reviver, this.maxAttachments);
    if (decoded instanceof PendingPacket) {
      this.pending = decoded;
      return;
    }
    this.pending = undefined;
    this.emit("decoded", decoded);
  }

  /** Drops any partially received binary packet. */
  destroy(): void {
    this.pending = undefined;
  }
}
