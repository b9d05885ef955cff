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

export interface SessionToPersist {
  sid: SocketId;
  pid: PrivateSessionId;
  rooms: Room[];
  data: unknown;
}

export type Session = SessionToPersist & { missedPackets: unknown[][] };
