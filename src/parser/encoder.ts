/**
 * Encodes a Socket.IO packet to its wire form: one string, or for EVENT / ACK with
 * binary data a BINARY_EVENT / BINARY_ACK header string followed by one Buffer per
 * attachment. Output is byte-identical to socket.io-parser 4.2's Encoder.
 */
import { deconstruct, hasBinary } from "./binary";
import { PacketType, type JSONReplacer, type Packet } from "./packet";

/** `<type>[<attachments>-][<nsp>,][<id>]`: everything before the JSON. */
function header(type: PacketType, nsp: string, id: number | undefined, attachments: number | undefined): string {
  let str = "" + type;
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) str += attachments + "-";
  // The default namespace is implied; an empty one is written the same way.
  if (nsp && nsp !== "/") str += nsp + ",";
  if (id != null) str += id;
  return str;
}

export class Encoder {
  /** @param replacer passed to `JSON.stringify` for every payload. */
  constructor(private readonly replacer?: JSONReplacer) {}

  encode(packet: Packet): Array<string | Buffer> {
    const { type, data } = packet;
    if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data)) {
      return this.encodeBinary(type, packet);
    }
    // Fast path: one JSON.stringify and one concatenation. A payload JSON.stringify
    // cannot represent (a function, via the replacer) is written "undefined", as upstream.
    const head = header(type, packet.nsp, packet.id, packet.attachments);
    return [data != null ? head + this.stringify(data) : head];
  }

  private encodeBinary(type: PacketType.EVENT | PacketType.ACK, packet: Packet): Array<string | Buffer> {
    const buffers: Buffer[] = [];
    const json = this.stringify(deconstruct(packet.data, buffers));
    const binaryType = type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
    const out: Array<string | Buffer> = [header(binaryType, packet.nsp, packet.id, buffers.length) + json];
    for (const buffer of buffers) out.push(buffer);
    return out;
  }

  private stringify(data: unknown): string {
    return JSON.stringify(data, this.replacer);
  }
}
