import { Adapter } from "./in-memory-adapter";
import type { BroadcastOptions, PrivateSessionId, Room, Session, SessionToPersist } from "./types";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface StoredPacket {
  id: string;
  opts: BroadcastOptions;
  data: unknown[];
  emittedAt: number;
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

/** How often expired sessions and packets are dropped (at most; sooner for a short maxDisconnectionDuration). */
const SWEEP_INTERVAL = 60_000;
const MIN_SWEEP_INTERVAL = 1000;

let offsetCounter = 0;

/**
 * In-memory adapter with connection state recovery: every broadcast event gets an
 * offset (appended as its last argument) and is kept for `maxDisconnectionDuration`, so
 * that a client that comes back in time gets back its id, rooms, data and every packet
 * it missed.
 */
export class SessionAwareAdapter extends Adapter {
  private readonly maxDisconnectionDuration: number;
  private readonly sessions = new Map<PrivateSessionId, StoredSession>();
  private packets: StoredPacket[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(nsp: any) {
    super(nsp);
    this.maxDisconnectionDuration = nsp.server.opts?.connectionStateRecovery?.maxDisconnectionDuration ?? 120_000;
    // A short maxDisconnectionDuration is swept as often, so that expired sessions and
    // packets are not kept up to a minute longer than configured.
    this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_INTERVAL, Math.max(MIN_SWEEP_INTERVAL, this.maxDisconnectionDuration)));
    this.sweeper.unref();
  }

  override close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const threshold = Date.now() - this.maxDisconnectionDuration;
    for (const [pid, session] of this.sessions) if (session.disconnectedAt < threshold) this.sessions.delete(pid);
    const firstKept = this.packets.findIndex((p) => p.emittedAt >= threshold);
    if (firstKept === -1) this.packets = [];
    else if (firstKept > 0) this.packets.splice(0, firstKept);
  }

  override persistSession(session: SessionToPersist): void {
    this.sessions.set(session.pid, { ...session, disconnectedAt: Date.now() });
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null> {
    const session = this.sessions.get(pid);
    if (!session) return Promise.resolve(null);
    if (session.disconnectedAt + this.maxDisconnectionDuration < Date.now()) {
      this.sessions.delete(pid);
      return Promise.resolve(null);
    }
    const index = this.packets.findIndex((p) => p.id === offset);
    if (index === -1) return Promise.resolve(null);
    this.sessions.delete(pid);
    const missedPackets: unknown[][] = [];
    for (let i = index + 1; i < this.packets.length; i++) {
      const packet = this.packets[i];
      if (reaches(session.rooms, packet.opts)) missedPackets.push(packet.data);
    }
    const { disconnectedAt: _, ...restored } = session;
    return Promise.resolve({ ...restored, missedPackets });
  }

  override broadcast(packet: any, opts: BroadcastOptions): void {
    const isEvent = packet.type === 2;
    const withoutAck = packet.id === undefined;
    const notVolatile = opts.flags?.volatile === undefined;
    if (isEvent && withoutAck && notVolatile) {
      const id = nextOffset();
      packet.data.push(id);
      this.packets.push({ id, opts, data: packet.data, emittedAt: Date.now() });
    }
    super.broadcast(packet, opts);
  }
}

/** Unique, increasing offsets: time plus a counter, so they stay unique across restarts too. */
function nextOffset(): string {
  offsetCounter = (offsetCounter + 1) % 0x1000000;
  return Date.now().toString(36) + "-" + offsetCounter.toString(36);
}

/** Whether a packet broadcast with `opts` would have reached a socket in `rooms`. */
function reaches(rooms: Room[], opts: BroadcastOptions): boolean {
  const inRooms = opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room));
  const excluded = opts.except !== undefined && rooms.some((room) => opts.except!.has(room));
  return inRooms && !excluded;
}
