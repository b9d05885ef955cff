/**
 * Engine.IO packets and their revision 4 codec. Pure functions: no I/O, no timers.
 */

export type PacketType = "open" | "close" | "ping" | "pong" | "message" | "upgrade" | "noop" | "error";

/** Binary payloads an application may send; all are written without copying where possible. */
export type BinaryData = Buffer | ArrayBuffer | ArrayBufferView;

/** What `socket.send()` accepts. */
export type RawData = string | BinaryData;

export interface SendOptions {
  /** Compress this packet when the transport compresses (WebSocket permessage-deflate, polling gzip). */
  compress?: boolean;
}

export interface PacketOptions extends SendOptions {
  /** A WebSocket frame already built for this packet (shared by the recipients of a broadcast). */
  wsPreEncodedFrame?: Buffer | readonly Buffer[];
}

export interface Packet {
  type: PacketType;
  data?: RawData;
  options?: PacketOptions;
}

/** A packet as decoded from the network: text stays a string, binary is always a Buffer. */
export interface DecodedPacket {
  type: PacketType;
  data?: string | Buffer;
}

/** The wire digit of each packet type; the index is the digit. */
export const PACKET_TYPES: readonly PacketType[] = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

const TYPE_DIGIT: Readonly<Record<PacketType, string>> = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
  error: "",
};

/** Record separator between packets of a revision 4 polling payload. */
export const SEPARATOR = "\x1e";

export const PARSE_ERROR: DecodedPacket = Object.freeze({ type: "error", data: "parser error" }) as DecodedPacket;

export function typeDigit(type: PacketType): string {
  return TYPE_DIGIT[type];
}

/** Packet type for a digit's char code, or undefined when it is not one of 0-6. */
export function typeOfCharCode(code: number): PacketType | undefined {
  return PACKET_TYPES[code - 48];
}

export function isBinary(data: unknown): data is BinaryData {
  return Buffer.isBuffer(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/** A Buffer over the same memory as `data`: no copy. */
export function toBuffer(data: BinaryData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Strict base64 check (standard alphabet, optional padding). Buffer.from() silently
 * skips garbage, and a corrupted payload should be a parse error, not altered data.
 */
export function isBase64(s: string, start: number): boolean {
  let end = s.length;
  if (end > start && s.charCodeAt(end - 1) === 61) end--;
  if (end > start && s.charCodeAt(end - 1) === 61) end--;
  if ((s.length - start) % 4 === 1) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/** Revision 4: text packets are `<digit><data>`, binary messages in text form are `b<base64>`. */
export function decodePacket(encoded: string | Buffer): DecodedPacket {
  if (typeof encoded !== "string") return { type: "message", data: encoded };
  if (encoded.length === 0) return PARSE_ERROR;
  const first = encoded.charCodeAt(0);
  if (first === 98 /* b */) {
    if (!isBase64(encoded, 1)) return PARSE_ERROR;
    return { type: "message", data: Buffer.from(encoded.slice(1), "base64") };
  }
  const type = typeOfCharCode(first);
  if (type === undefined) return PARSE_ERROR;
  return encoded.length > 1 ? { type, data: encoded.slice(1) } : { type };
}

/**
 * Revision 4 encoding of one packet. Binary data stays binary when the transport can
 * carry it (a WebSocket frame is then the raw bytes); otherwise it becomes `b<base64>`.
 */
export function encodePacket(packet: Packet, supportsBinary: boolean): string | Buffer {
  const data = packet.data;
  if (data === undefined) return TYPE_DIGIT[packet.type];
  if (typeof data === "string") return TYPE_DIGIT[packet.type] + data;
  const buf = toBuffer(data);
  return supportsBinary ? buf : "b" + buf.toString("base64");
}

/** Revision 4 polling payload: every packet in text form, joined by the record separator. */
export function encodePayload(packets: readonly Packet[]): string {
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += SEPARATOR;
    out += encodePacket(packets[i], false) as string;
  }
  return out;
}

/** Decodes a revision 4 payload. A bad packet ends the list with a `PARSE_ERROR`. */
export function decodePayload(payload: string): DecodedPacket[] {
  const packets: DecodedPacket[] = [];
  let start = 0;
  while (start <= payload.length) {
    let end = payload.indexOf(SEPARATOR, start);
    if (end === -1) end = payload.length;
    const packet = decodePacket(payload.slice(start, end));
    packets.push(packet);
    if (packet === PARSE_ERROR) break;
    start = end + 1;
  }
  return packets;
}
