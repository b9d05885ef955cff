import type { Adapter } from "./adapter/in-memory-adapter";
import type { BroadcastFlags, Room, SocketId } from "./adapter/types";
import { RESERVED_EVENTS, refuseReserved, type Handshake } from "./socket-types";
import { PacketType } from "./parser/packet";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  EventNames,
  EventNamesWithError,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  TypedEventBroadcaster,
} from "./typed-events";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Flags = BroadcastFlags & { expectSingleResponse?: boolean };

/** What `to()`, `in()`, `except()`... return: an acknowledged emit collects every recipient's answer. */
export type MultiResponseBroadcast<EmitEvents extends EventsMap, SocketData> = BroadcastOperator<
  DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
  SocketData
>;

/**
 * A broadcast being described: rooms to reach, rooms to skip, and flags. Every method
 * returns a new operator, so a partly built one can be reused.
 */
export class BroadcastOperator<EmitEvents extends EventsMap, SocketData> implements TypedEventBroadcaster<EmitEvents> {
  constructor(
    private readonly adapter: Adapter,
    private readonly rooms: Set<Room> = new Set(),
    private readonly exceptRooms: Set<Room> = new Set(),
    private readonly flags: Flags = {},
  ) {}

  /** Targets the sockets in `room` (added to any rooms already targeted). */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    const rooms = new Set(this.rooms);
    for (const r of toList(room)) rooms.add(r);
    return new BroadcastOperator(this.adapter, rooms, this.exceptRooms, this.flags);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Skips the sockets in `room`. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    const exceptRooms = new Set(this.exceptRooms);
    for (const r of toList(room)) exceptRooms.add(r);
    return new BroadcastOperator(this.adapter, this.rooms, exceptRooms, this.flags);
  }

  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, { ...this.flags, compress });
  }

  /** The packet may be dropped for clients that cannot take it right now. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, { ...this.flags, volatile: true });
  }

  /** Only the clients of this server, not the rest of the cluster. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, { ...this.flags, local: true });
  }

  /** Acknowledgements get `timeout` ms; the callback then receives an error plus what arrived. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, { ...this.flags, timeout });
  }

  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    refuseReserved(RESERVED_EVENTS, ev);
    const data: any[] = [ev, ...args];
    const packet = { type: PacketType.EVENT, data };
    const options = { rooms: this.rooms, except: this.exceptRooms, flags: this.flags };
    if (typeof data[data.length - 1] !== "function") {
      this.adapter.broadcast(packet, options);
      return true;
    }
    const ack = data.pop() as (...args: any[]) => void;
    const single = this.flags.expectSingleResponse === true;
    const responses: unknown[] = [];
    let timedOut = false;
    let expectedServers = -1;
    let answeredServers = 0;
    let expectedClients = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      // The recipients that never answered would keep the acknowledgement for ever (the
      // adapter gave the packet its id).
      const id = (packet as { id?: number }).id;
      if (id !== undefined) forgetAck(this.adapter, id);
      ack.call(this, new Error("operation has timed out"), single ? null : responses);
    }, this.flags.timeout);
    const settleIfComplete = () => {
      if (timedOut || expectedServers !== answeredServers || responses.length !== expectedClients) return;
      clearTimeout(timer);
      timedOut = true;
      ack.call(this, null, single ? responses[0] : responses);
    };
    this.adapter.broadcastWithAck(
      packet,
      options,
      (clientCount) => {
        expectedClients += clientCount;
        answeredServers++;
        settleIfComplete();
      },
      (response: unknown) => {
        responses.push(response);
        settleIfComplete();
      },
    );
    this.adapter.serverCount().then((count) => {
      expectedServers = count;
      settleIfComplete();
    });
    return true;
  }

  /** Like `emit` with an acknowledgement, as a Promise of every response. */
  emitWithAck<Ev extends EventNamesWithError<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      (args as unknown[]).push((err: (Error & { responses?: unknown }) | null, responses: any) => {
        if (err) {
          err.responses = responses;
          reject(err);
        } else {
          resolve(responses);
        }
      });
      this.emit(ev, ...(args as unknown as EventParams<EmitEvents, Ev>));
    });
  }

  /** @deprecated use `fetchSockets()` */
  allSockets(): Promise<Set<SocketId>> {
    return this.adapter.sockets(this.rooms);
  }

  /** The matching sockets: local Socket objects, or RemoteSocket for other servers' sockets. */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.adapter
      .fetchSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags })
      .then((sockets) =>
        sockets.map((socket: any) => (socket.server ? socket : new RemoteSocket<EmitEvents, SocketData>(this.adapter, socket))),
      );
  }

  socketsJoin(room: Room | Room[]): void {
    this.adapter.addSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags }, toList(room));
  }

  socketsLeave(room: Room | Room[]): void {
    this.adapter.delSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags }, toList(room));
  }

  disconnectSockets(close = false): void {
    this.adapter.disconnectSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags }, close);
  }
}

/** What other servers report of their sockets. */
export interface SocketDetails<SocketData> {
  id: SocketId;
  handshake: Handshake;
  rooms: Room[];
  data: SocketData;
}

/** A socket seen through `fetchSockets()`, possibly on another server of the cluster. */
export class RemoteSocket<EmitEvents extends EventsMap, SocketData> implements TypedEventBroadcaster<EmitEvents> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  private readonly operator: BroadcastOperator<EmitEvents, SocketData>;

  constructor(adapter: Adapter, details: SocketDetails<SocketData>) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.operator = new BroadcastOperator<EmitEvents, SocketData>(adapter, new Set([this.id]), new Set(), {
      expectSingleResponse: true,
    });
  }

  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.operator.timeout(timeout);
  }

  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.operator.emit(ev, ...args);
  }

  join(room: Room | Room[]): void {
    this.operator.socketsJoin(room);
  }

  leave(room: Room): void {
    this.operator.socketsLeave(room);
  }

  disconnect(close = false): this {
    this.operator.disconnectSockets(close);
    return this;
  }
}

function toList(room: Room | Room[]): Room[] {
  return Array.isArray(room) ? room : [room];
}

/** Removes acknowledgement `id` from the namespace's sockets (after a broadcast timed out). */
function forgetAck(adapter: Adapter, id: number): void {
  const sockets = (adapter as { nsp?: { sockets?: Map<SocketId, { _forgetAck?(id: number): void }> } }).nsp?.sockets;
  if (!sockets) return;
  for (const socket of sockets.values()) socket._forgetAck?.(id);
}
