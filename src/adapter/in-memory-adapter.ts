import { EventEmitter } from "node:events";
import { encodeBroadcastFrame } from "../engine/index";
import type { BroadcastOptions, PrivateSessionId, Room, Session, SessionToPersist, SocketId, WriteOptions } from "./types";
import { PreparedBroadcast } from "./prepared-broadcast";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What an adapter needs from the sockets it reaches (a Volley Socket, structurally). */
export interface AdapterSocket {
  id: SocketId;
  acks: Map<number, (...args: any[]) => void>;
  client: { writeToEngine(encoded: ReadonlyArray<string | Buffer>, opts: WriteOptions): void };
  notifyOutgoingListeners?(packet: any): void;
  join(rooms: Room | Room[]): unknown;
  leave(room: Room): unknown;
  disconnect(close?: boolean): unknown;
}

/** What an adapter needs from its namespace. */
export interface AdapterNamespace {
  name: string;
  sockets: Map<SocketId, AdapterSocket>;
  _ids: number;
  server: { encoder: { encode(packet: any): Array<string | Buffer> }; opts?: any };
}

/**
 * The in-memory adapter: rooms and broadcasting within one process. Same interface and
 * events as `socket.io-adapter`'s Adapter (`create-room`, `delete-room`, `join-room`,
 * `leave-room`), so code and adapters written against that class work with it.
 *
 * Broadcasting encodes the packet once and, for text packets, builds the WebSocket
 * frame once; every recipient gets the same bytes.
 */
export class Adapter extends EventEmitter {
  rooms: Map<Room, Set<SocketId>> = new Map();
  sids: Map<SocketId, Set<Room>> = new Map();
  readonly encoder: { encode(packet: any): Array<string | Buffer> };

  constructor(readonly nsp: any) {
    super();
    this.encoder = nsp.server.encoder;
  }

  init(): Promise<void> | void {}

  close(): Promise<void> | void {}

  /** Number of servers in the cluster: one, for an adapter that has no cluster. */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /*
   * Every socket first joins its own room, alone: `sids.get(id)` (its rooms) and
   * `rooms.get(id)` (the room's members) would be two Sets holding just `id`. They start
   * as one shared Set instead, and are told apart (copied) before either changes: a
   * shared Set always holds exactly its socket's id.
   */

  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    let joined = this.sids.get(id);
    if (!joined) {
      if (rooms.size === 1 && rooms.has(id) && !this.rooms.has(id)) {
        const own = new Set([id]);
        this.sids.set(id, own);
        this.rooms.set(id, own);
        this.emit("create-room", id);
        this.emit("join-room", id, id);
        return;
      }
      joined = new Set();
      this.sids.set(id, joined);
    }
    for (const room of rooms) {
      if (!joined.has(room)) {
        if (joined === this.rooms.get(id)) joined = this.unshare(this.sids, id, joined);
        joined.add(room);
      }
      let members = this.rooms.get(room);
      if (!members) {
        members = new Set();
        this.rooms.set(room, members);
        this.emit("create-room", room);
      }
      if (!members.has(id)) {
        // Another socket joins a room named after a socket: that socket's rooms stay as they are.
        if (members === this.sids.get(room)) members = this.unshare(this.rooms, room, members);
        members.add(id);
        this.emit("join-room", room, id);
      }
    }
  }

  /** Replaces a shared Set with a copy in `map` (same position: Map#set keeps it). */
  private unshare(map: Map<string, Set<string>>, key: string, shared: Set<string>): Set<string> {
    const copy = new Set(shared);
    map.set(key, copy);
    return copy;
  }

  del(id: SocketId, room: Room): Promise<void> | void {
    const joined = this.sids.get(id);
    if (joined?.has(room)) {
      // Leaving its own room: the room's members must still hold the id for removeFromRoom.
      if (joined === this.rooms.get(id)) this.unshare(this.sids, id, joined).delete(room);
      else joined.delete(room);
    }
    this.removeFromRoom(room, id);
  }

  private removeFromRoom(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (!members || !members.delete(id)) return;
    this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  delAll(id: SocketId): void {
    const joined = this.sids.get(id);
    if (!joined) return;
    // A shared `joined` is `{id}`: removing the id from its own room empties it mid-loop,
    // which ends the loop as it would have ended anyway.
    for (const room of joined) this.removeFromRoom(room, id);
    this.sids.delete(id);
  }

  broadcast(packet: any, opts: BroadcastOptions): void {
    const prepared = new PreparedBroadcast(opts.flags);
    packet.nsp = this.nsp.name;
    const encoded = this._encode(packet, prepared);
    this.apply(opts, (socket) => {
      socket.notifyOutgoingListeners?.(packet);
      socket.client.writeToEngine(encoded, prepared);
    });
  }

  /**
   * Broadcast whose recipients answer: `clientCountCallback` learns how many were
   * reached, `ack` receives each answer.
   */
  broadcastWithAck(
    packet: any,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: any[]) => void,
  ): void {
    const prepared = new PreparedBroadcast(opts.flags);
    packet.nsp = this.nsp.name;
    packet.id = this.nsp._ids++;
    const encoded = this._encode(packet, prepared);
    let clientCount = 0;
    this.apply(opts, (socket) => {
      clientCount++;
      socket.acks.set(packet.id, ack);
      socket.notifyOutgoingListeners?.(packet);
      socket.client.writeToEngine(encoded, prepared);
    });
    clientCountCallback(clientCount);
  }

  /**
   * Encodes once; a single text packet also gets its WebSocket frame (built by the engine),
   * shared by all recipients: one per broadcast, not per recipient.
   */
  protected _encode(packet: any, writeOptions: WriteOptions): Array<string | Buffer> {
    const encoded = this.encoder.encode(packet);
    if (encoded.length === 1 && typeof encoded[0] === "string") {
      writeOptions.wsPreEncodedFrame = encodeBroadcastFrame(encoded[0]);
    }
    return encoded;
  }

  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  fetchSockets(opts: BroadcastOptions): Promise<any[]> {
    const sockets: AdapterSocket[] = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return Promise.resolve(sockets);
  }

  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.targets(opts)) socket.join(rooms);
  }

  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.targets(opts)) for (const room of rooms) socket.leave(room);
  }

  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const socket of this.targets(opts)) socket.disconnect(close);
  }

  /**
   * Emits to the other servers of a cluster. There are none here: an emit with an
   * acknowledgement is answered at once with no responses.
   */
  serverSideEmit(packet: any[]): void {
    const ack = packet[packet.length - 1];
    if (typeof ack === "function") ack(null, []);
  }

  persistSession(_session: SessionToPersist): void {}

  restoreSession(_pid: PrivateSessionId, _offset: string): Promise<Session | null> {
    return Promise.resolve(null);
  }

  /** The targets as a list, for operations that change rooms while we walk them. */
  private targets(opts: BroadcastOptions): AdapterSocket[] {
    const sockets: AdapterSocket[] = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return sockets;
  }

  /** Calls `fn` once for each local socket the options select. */
  protected apply(opts: BroadcastOptions, fn: (socket: AdapterSocket) => void): void {
    const rooms = opts.rooms;
    const except = this.exceptSids(opts.except);
    const sockets: Map<SocketId, AdapterSocket> = this.nsp.sockets;
    if (rooms.size === 0) {
      // Over values, not entries: an entry is an array made per socket.
      if (except === undefined) for (const socket of sockets.values()) fn(socket);
      else for (const socket of sockets.values()) if (!except.has(socket.id)) fn(socket);
      return;
    }
    if (rooms.size === 1) {
      const members = this.rooms.get(rooms.values().next().value as Room);
      if (!members) return;
      for (const id of members) {
        if (except?.has(id)) continue;
        const socket = sockets.get(id);
        if (socket) fn(socket);
      }
      return;
    }
    const seen = new Set<SocketId>();
    for (const room of rooms) {
      const members = this.rooms.get(room);
      if (!members) continue;
      for (const id of members) {
        if (seen.has(id) || except?.has(id)) continue;
        seen.add(id);
        const socket = sockets.get(id);
        if (socket) fn(socket);
      }
    }
  }

  private exceptSids(exceptRooms: Set<Room> | undefined): Set<SocketId> | undefined {
    if (!exceptRooms || exceptRooms.size === 0) return undefined;
    const ids = new Set<SocketId>();
    for (const room of exceptRooms) {
      const members = this.rooms.get(room);
      if (members) for (const id of members) ids.add(id);
    }
    return ids;
  }
}
