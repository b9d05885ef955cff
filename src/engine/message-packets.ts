/**
 * Message packets as the socket layer hands them to a session: the engine's wire format
 * (the message digit, the WebSocket frame) stays here, the socket layer only asks.
 */
import { typeDigit, type Packet, type RawData } from "./packet";
import { COMPRESS, NO_COMPRESS } from "./socket";
import { encodeTextFrame } from "./websocket/ws-frame";

const MESSAGE_DIGIT = typeDigit("message");

/**
 * @internal A message packet with the shared options of a plain write: no object but the
 * packet itself, for `Socket#sendPrepared`.
 */
export function messagePacket(data: RawData, compress: boolean): Packet {
  return { type: "message", data, options: compress ? COMPRESS : NO_COMPRESS };
}

/**
 * @internal The message packets of a broadcast, queued as the same objects for every
 * recipient. A lone packet carries the broadcast's prebuilt WebSocket frame, if any.
 */
export function broadcastPackets(
  encoded: ReadonlyArray<RawData>,
  compress: boolean,
  wsPreEncodedFrame: Buffer | readonly Buffer[] | undefined,
): Packet[] {
  const base = compress ? COMPRESS : NO_COMPRESS;
  const options = wsPreEncodedFrame && encoded.length === 1 ? { compress, wsPreEncodedFrame } : base;
  return encoded.map((data) => ({ type: "message", data, options }));
}

/**
 * @internal The WebSocket text frame of one encoded Socket.IO packet sent as an Engine.IO
 * message, built once per broadcast. An array of Buffers: socket.io's adapter puts the parts
 * `ws` gives there, and code reading `packet.options.wsPreEncodedFrame` expects that shape.
 */
export function encodeBroadcastFrame(encodedPacket: string): Buffer[] {
  return [encodeTextFrame(MESSAGE_DIGIT + encodedPacket)];
}
