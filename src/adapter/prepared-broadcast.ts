/**
 * One broadcast's write, prepared once and handed by the adapter to every recipient's
 * client: the encoded packets' engine packets are built for the first recipient and the
 * same objects are queued for all the others (same bytes, nothing per recipient).
 */
import { broadcastPackets, type Packet, type RawData } from "../engine/index";
import type { BroadcastFlags, WriteOptions } from "./types";

/** The encoded Socket.IO packets of a write: a list, or one alone as the official server accepts. */
export type EncodedPackets = ReadonlyArray<RawData> | RawData;

const NO_FLAGS: BroadcastFlags = Object.freeze({});

/** The options of a broadcast's write, with the engine packets built for its encoded packets. */
export class PreparedBroadcast implements WriteOptions {
  readonly preEncoded = true;
  readonly volatile: boolean | undefined;
  readonly compress: boolean | undefined;
  /** Set by the adapter's `_encode()` for a lone text packet. */
  wsPreEncodedFrame: Buffer | readonly Buffer[] | undefined = undefined;
  /** The encoded packets `packets` were built for. */
  private source: EncodedPackets | undefined = undefined;
  private packets: Packet[] | undefined = undefined;

  constructor(flags: BroadcastFlags = NO_FLAGS) {
    this.volatile = flags.volatile;
    this.compress = flags.compress;
  }

  /** The engine packets of `encoded`, shared by every recipient. */
  enginePackets(encoded: EncodedPackets): Packet[] {
    if (this.source !== encoded || this.packets === undefined) {
      this.source = encoded;
      this.packets = buildPackets(encoded, this);
    }
    return this.packets;
  }
}

/*
 * Adapters from npm (socket.io-adapter's broadcast) hand every recipient the same plain
 * options object and encoded list: their engine packets are remembered for the last such
 * pair, until the end of the turn (so that no broadcast's bytes stay referenced longer).
 */
let lastOptions: WriteOptions | undefined;
let lastSource: EncodedPackets | undefined;
let lastPackets: Packet[] = [];

/** The engine packets for a write of `encoded` with `opts`, shared by the recipients of a broadcast. */
export function enginePacketsFor(encoded: EncodedPackets, opts: WriteOptions): Packet[] {
  if (opts instanceof PreparedBroadcast) return opts.enginePackets(encoded);
  if (opts !== lastOptions || encoded !== lastSource) {
    // A frozen object is not a broadcast's (those are made per broadcast): nothing to share.
    if (!Object.isExtensible(opts)) return buildPackets(encoded, opts);
    if (lastOptions === undefined) process.nextTick(forgetLast);
    lastOptions = opts;
    lastSource = encoded;
    lastPackets = buildPackets(encoded, opts);
  }
  return lastPackets;
}

function forgetLast(): void {
  lastOptions = undefined;
  lastSource = undefined;
  lastPackets = [];
}

function buildPackets(encoded: EncodedPackets, opts: WriteOptions): Packet[] {
  const list = (Array.isArray(encoded) ? encoded : [encoded]) as ReadonlyArray<RawData>;
  return broadcastPackets(list, opts.compress !== false, opts.wsPreEncodedFrame);
}
