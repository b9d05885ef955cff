import type { EventEmitter } from "node:events";

/** Shapes shared by every adapter, named as in the `socket.io-adapter` package. */
export type SocketId = string;
export type PrivateSessionId = string;
export type Room = string;

export interface BroadcastFlags {
  volatile?: boolean;
  compress?: boolean;
  local?: boolean;
  broadcast?: boolean;
  binary?: boolean;
  timeout?: number;
  /** Set by RemoteSocket: an acknowledged emit to one socket answers with one value. */
  expectSingleResponse?: boolean;
}

export interface BroadcastOptions {
  rooms: Set<Room>;
  except?: Set<Room>;
  flags?: BroadcastFlags;
}

/** Options of one write of pre-encoded packets to the engine (`client.writeToEngine`). */
export interface WriteOptions {
  preEncoded?: boolean;
  volatile?: boolean;
  compress?: boolean;
  /** A text WebSocket frame for the single encoded packet, built once per broadcast. */
  wsPreEncodedFrame?: Buffer | readonly Buffer[];
}

export interface SessionToPersist {
  sid: SocketId;
  pid: PrivateSessionId;
  rooms: Room[];
  data: unknown;
}

export type Session = SessionToPersist & { missedPackets: unknown[][] };

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * What the server needs of an adapter: the public surface of `socket.io-adapter`'s Adapter.
 * Volley's own adapters and those from npm (@socket.io/redis-adapter, ...), which extend
 * socket.io-adapter's classes, both fit it.
 */
export interface AdapterInterface extends EventEmitter {
  readonly nsp: any;
  rooms: Map<Room, Set<SocketId>>;
  sids: Map<SocketId, Set<Room>>;
  init(): Promise<void> | void;
  close(): Promise<void> | void;
  serverCount(): Promise<number>;
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void;
  del(id: SocketId, room: Room): Promise<void> | void;
  delAll(id: SocketId): void;
  broadcast(packet: any, opts: BroadcastOptions): void;
  broadcastWithAck(packet: any, opts: BroadcastOptions, clientCountCallback: (clientCount: number) => void, ack: (...args: any[]) => void): void;
  sockets(rooms: Set<Room>): Promise<Set<SocketId>>;
  socketRooms(id: SocketId): Set<Room> | undefined;
  fetchSockets(opts: BroadcastOptions): Promise<any[]>;
  addSockets(opts: BroadcastOptions, rooms: Room[]): void;
  delSockets(opts: BroadcastOptions, rooms: Room[]): void;
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
  serverSideEmit(packet: any[]): void;
  persistSession(session: SessionToPersist): void;
  restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null> | null;
}
