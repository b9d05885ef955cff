/**
 * The official codecs, loaded as reference implementations for the codec tests:
 * `engine.io-parser` (revision 4), `engine.io`'s bundled revision 3 parser, the official
 * JSONP request decoding, `accepts` (what engine.io uses to pick a compression) and
 * `ws`'s frame builder. Their callback APIs are synchronous; these wrappers return values.
 */
import * as path from "node:path";
import WebSocket from "ws";
import * as parserV4 from "engine.io-parser";
import type { DecodedPacket, Packet, PacketType } from "../../src/engine/packet";

/** engine.io does not export its internals, so they are loaded by file path. */
const engineBuild = path.dirname(require.resolve("engine.io"));

type Callback<T> = (value: T) => unknown;

interface ParserV3 {
  encodePacket(packet: Packet, supportsBinary: boolean, utf8encode: boolean, cb: Callback<string | Buffer>): void;
  encodePayload(packets: readonly Packet[], supportsBinary: boolean, cb: Callback<string | Buffer>): void;
  decodePacket(data: string | Buffer): DecodedPacket;
  decodePayload(data: string | Buffer, cb: (packet: DecodedPacket, index: number, total: number) => unknown): void;
}

const parserV3 = require(path.join(engineBuild, "parser-v3")) as ParserV3;

/** Runs a synchronous callback API and returns what it passed to the callback. */
function sync<T>(run: (cb: Callback<T>) => void): T {
  let out: { value: T } | undefined;
  run((value) => {
    out = { value };
  });
  if (out === undefined) throw new Error("reference codec did not call back synchronously");
  return out.value;
}

export function refEncodePacket(packet: Packet, supportsBinary: boolean): string | Buffer {
  return sync<string | Buffer>((cb) => parserV4.encodePacket(packet as parserV4.Packet, supportsBinary, cb));
}

export function refEncodePayload(packets: readonly Packet[]): string {
  return sync<string>((cb) => parserV4.encodePayload(packets as parserV4.Packet[], cb));
}

export function refDecodePacket(encoded: string | Buffer): DecodedPacket {
  return parserV4.decodePacket(encoded, "nodebuffer") as DecodedPacket;
}

export function refDecodePayload(payload: string): DecodedPacket[] {
  return parserV4.decodePayload(payload, "nodebuffer") as DecodedPacket[];
}

export function refEncodePacketV3(packet: Packet, supportsBinary: boolean): string | Buffer {
  return sync<string | Buffer>((cb) => parserV3.encodePacket(packet, supportsBinary, false, cb));
}

export function refEncodePayloadV3(packets: readonly Packet[], supportsBinary: boolean): string | Buffer {
  return sync<string | Buffer>((cb) => parserV3.encodePayload(packets, supportsBinary, cb));
}

export function refDecodePacketV3(encoded: string | Buffer): DecodedPacket {
  return parserV3.decodePacket(encoded);
}

/** Every packet the official decoder reports; a parse error shows up as the error packet. */
export function refDecodePayloadV3(payload: string | Buffer): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  parserV3.decodePayload(payload, (packet) => {
    out.push(packet);
  });
  return out;
}

interface OfficialJsonp {
  parser: { decodePayload(data: string): void };
  onData(body: string): void;
}

const { JSONP } = require(path.join(engineBuild, "transports", "polling-jsonp")) as {
  JSONP: new (req: { _query: Record<string, string> }) => OfficialJsonp;
};

/**
 * The payload string the official JSONP transport hands to its parser for a form body
 * whose `d` field is `d`: its newline unescaping, observed by replacing the instance's parser.
 */
export function refJsonpPayload(d: string): string | undefined {
  const transport = new JSONP({ _query: { EIO: "3", j: "0" } });
  let seen: string | undefined;
  transport.parser = {
    decodePayload(data: string) {
      seen = data;
    },
  };
  transport.onData("d=" + encodeURIComponent(d));
  return seen;
}

const accepts = require("accepts") as (req: { headers: Record<string, string> }) => {
  encodings(list: string[]): string | false;
};

/** What engine.io picks for an Accept-Encoding header (it asks `accepts` for gzip or deflate). */
export function refChooseEncoding(header: string, supported: string[] = ["gzip", "deflate"]): string | undefined {
  return accepts({ headers: { "accept-encoding": header } }).encodings(supported) || undefined;
}

interface WsFrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}

const wsInternals = WebSocket as unknown as {
  Sender: { frame(data: Buffer | { length: number }, options: WsFrameOptions): Buffer[] };
  Receiver: new (options: { isServer: boolean; maxPayload?: number }) => WsReceiver;
};

export interface WsReceiver {
  write(chunk: Buffer): boolean;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
}

export const WsReceiverClass = wsInternals.Receiver;

/** The bytes `ws` would write for an unmasked final frame. */
export function wsFrame(opcode: number, data: Buffer): Buffer {
  return Buffer.concat(wsInternals.Sender.frame(data, { fin: true, rsv1: false, opcode, mask: false, readOnly: false }));
}

/**
 * The header `ws` would write for a payload of `length` bytes, without allocating it:
 * `Sender.frame` only reads the payload's `length` when it does not mask, and hands the
 * payload back untouched as the second element.
 */
export function wsFrameHeader(opcode: number, length: number): Buffer {
  return wsInternals.Sender.frame({ length }, { fin: true, rsv1: false, opcode, mask: false, readOnly: false })[0];
}

export const PACKET_TYPE_NAMES: readonly PacketType[] = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
