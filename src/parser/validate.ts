/**
 * Which payloads each packet type may carry. Used by the decoder on everything it
 * receives, and exported as `isPacketValid` for packets about to be encoded.
 */
import { PacketType, RESERVED_EVENTS, type Packet } from "./packet";

/** A plain object (not an array, null, Date, Buffer...). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/** An event payload: `[name, ...args]`, the name a non-reserved string or (old clients) a number. */
function isEventPayload(data: unknown): boolean {
  if (!Array.isArray(data)) return false;
  const name: unknown = data[0];
  return typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name));
}

/**
 * Whether `data` may be the payload of a received packet of `type` (binary types as
 * sent, before their attachments are put back). `undefined` means "no payload".
 */
export function isPayloadValid(type: PacketType, data: unknown): boolean {
  switch (type) {
    case PacketType.CONNECT:
      return data === undefined || isObject(data);
    case PacketType.DISCONNECT:
      return data === undefined;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      return isEventPayload(data);
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      return Array.isArray(data);
    case PacketType.CONNECT_ERROR:
      return typeof data === "string" || isObject(data);
    default:
      return false;
  }
}

/**
 * Whether a packet is fit to be encoded, as socket.io-parser defines it: a string
 * namespace, an integer ack id if any, and a payload valid for its type. BINARY_EVENT
 * and BINARY_ACK are never valid here: applications send EVENT / ACK and the encoder
 * picks the binary form itself.
 */
export function isPacketValid(packet: Packet): boolean {
  return (
    typeof packet.nsp === "string" &&
    (packet.id === undefined || Number.isInteger(packet.id)) &&
    packet.type !== PacketType.BINARY_EVENT &&
    packet.type !== PacketType.BINARY_ACK &&
    isPayloadValid(packet.type, packet.data)
  );
}
