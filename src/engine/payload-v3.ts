/**
 * Engine.IO revision 3 codec, spoken by socket.io-client v2 (engine.io-client v3).
 * Pure functions: no I/O, no timers.
 *
 * Differences from revision 4:
 * - a binary packet carries its type: as a leading byte when binary, as `b<digit><base64>` in text;
 * - text payloads are `<length>:<packet>` repeated, the length counted in UTF-16 code units;
 * - binary payloads are records `<0|1><length digits as bytes 0-9><0xff><bytes>`, where
 *   0 marks a UTF-8 text packet and 1 a binary one (whose first byte is its type).
 */
import {
  PARSE_ERROR,
  isBase64,
  isBinary,
  toBuffer,
  typeDigit,
  typeOfCharCode,
  type DecodedPacket,
  type Packet,
  type PacketType,
} from "./packet";

const TYPE_BYTE: Readonly<Record<PacketType, number>> = {
  open: 0,
  close: 1,
  ping: 2,
  pong: 3,
  message: 4,
  upgrade: 5,
  noop: 6,
  error: 4,
};

/** Longest length prefix accepted: no valid payload under any sane body limit needs more. */
const MAX_LENGTH_DIGITS = 10;

export function decodePacketV3(encoded: string | Buffer): DecodedPacket {
  if (typeof encoded !== "string") {
    if (encoded.length === 0) return PARSE_ERROR;
    const type = typeOfCharCode(encoded[0] + 48);
    if (type === undefined) return PARSE_ERROR;
    return { type, data: encoded.subarray(1) };
  }
  if (encoded.length === 0) return PARSE_ERROR;
  if (encoded.charCodeAt(0) === 98 /* b */) {
    const type = typeOfCharCode(encoded.charCodeAt(1));
    if (type === undefined || !isBase64(encoded, 2)) return PARSE_ERROR;
    return { type, data: Buffer.from(encoded.slice(2), "base64") };
  }
  const type = typeOfCharCode(encoded.charCodeAt(0));
  if (type === undefined) return PARSE_ERROR;
  return encoded.length > 1 ? { type, data: encoded.slice(1) } : { type };
}

/** One packet: binary becomes type byte + bytes, or `b<digit><base64>` without binary support. */
export function encodePacketV3(packet: Packet, supportsBinary: boolean): string | Buffer {
  const data = packet.data;
  if (data === undefined) return typeDigit(packet.type);
  if (typeof data === "string") return typeDigit(packet.type) + data;
  const buf = toBuffer(data);
  if (!supportsBinary) return "b" + typeDigit(packet.type) + buf.toString("base64");
  const out = Buffer.allocUnsafe(buf.length + 1);
  out[0] = TYPE_BYTE[packet.type];
  buf.copy(out, 1);
  return out;
}

export function encodePayloadV3(packets: readonly Packet[], supportsBinary: boolean): string | Buffer {
  if (supportsBinary && packets.some((p) => isBinary(p.data))) return encodeBinaryPayload(packets);
  if (packets.length === 0) return "0:";
  let out = "";
  for (const packet of packets) {
    const encoded = encodePacketV3(packet, false) as string;
    out += encoded.length + ":" + encoded;
  }
  return out;
}

function encodeBinaryPayload(packets: readonly Packet[]): Buffer {
  const chunks: Buffer[] = [];
  for (const packet of packets) {
    const encoded = encodePacketV3(packet, true);
    const body = typeof encoded === "string" ? Buffer.from(encoded, "utf8") : encoded;
    const digits = String(body.length);
    const head = Buffer.allocUnsafe(digits.length + 2);
    head[0] = typeof encoded === "string" ? 0 : 1;
    for (let i = 0; i < digits.length; i++) head[i + 1] = digits.charCodeAt(i) - 48;
    head[digits.length + 1] = 0xff;
    chunks.push(head, body);
  }
  return Buffer.concat(chunks);
}

/** Decodes a revision 3 payload; a malformed one ends the list with `PARSE_ERROR`. */
export function decodePayloadV3(payload: string | Buffer): DecodedPacket[] {
  return typeof payload === "string" ? decodeTextPayload(payload) : decodeBinaryPayload(payload);
}

function decodeTextPayload(payload: string): DecodedPacket[] {
  const packets: DecodedPacket[] = [];
  let i = 0;
  while (i < payload.length) {
    const colon = payload.indexOf(":", i);
    if (colon === -1 || colon === i || colon - i > MAX_LENGTH_DIGITS) return fail(packets);
    let length = 0;
    for (let j = i; j < colon; j++) {
      const d = payload.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return fail(packets);
      length = length * 10 + d;
    }
    const start = colon + 1;
    if (start + length > payload.length) return fail(packets);
    if (length > 0) {
      const packet = decodePacketV3(payload.slice(start, start + length));
      if (packet === PARSE_ERROR) return fail(packets);
      packets.push(packet);
    }
    i = start + length;
  }
  if (packets.length === 0 && payload !== "0:") return fail(packets);
  return packets;
}

function decodeBinaryPayload(payload: Buffer): DecodedPacket[] {
  const packets: DecodedPacket[] = [];
  let i = 0;
  while (i < payload.length) {
    const kind = payload[i++];
    if (kind !== 0 && kind !== 1) return fail(packets);
    let length = 0;
    let digits = 0;
    while (i < payload.length && payload[i] !== 0xff) {
      const d = payload[i++];
      if (d > 9 || ++digits > MAX_LENGTH_DIGITS) return fail(packets);
      length = length * 10 + d;
    }
    if (digits === 0 || i >= payload.length) return fail(packets);
    i++; // the 0xff separator
    if (i + length > payload.length) return fail(packets);
    const body = payload.subarray(i, i + length);
    i += length;
    const packet = decodePacketV3(kind === 0 ? body.toString("utf8") : body);
    if (packet === PARSE_ERROR) return fail(packets);
    packets.push(packet);
  }
  if (packets.length === 0) return fail(packets);
  return packets;
}

function fail(packets: DecodedPacket[]): DecodedPacket[] {
  packets.push(PARSE_ERROR);
  return packets;
}
