export { Adapter } from "./in-memory-adapter";
export type { AdapterSocket, AdapterNamespace } from "./in-memory-adapter";
export { SessionAwareAdapter } from "./session-aware-adapter";
export type { AdapterInterface, BroadcastFlags, BroadcastOptions, PrivateSessionId, Room, Session, SessionToPersist, SocketId, WriteOptions } from "./types";
