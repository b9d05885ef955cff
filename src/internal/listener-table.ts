import { EventEmitter } from "node:events";

/**
 * Node starts every EventEmitter with a listener table in dictionary mode: about 180 bytes,
 * even empty. A connection keeps several emitters as long as it lives (its WebSocket, the
 * engine socket, its transport, the Socket.IO socket), each with a handful of listeners at
 * most. Node's own streams start theirs with a fast-mode table instead (older Node did so for
 * every emitter); so does this: an object whose prototype has no properties, so that any
 * event name reads as "no listener", and that stays small and fast as a few listeners are
 * added. EventEmitter only reads and writes the table's own keys, and replaces it whenever it
 * empties it.
 */
const CompactTable = function CompactTable(): void {} as unknown as new () => object;
CompactTable.prototype = Object.create(null);

interface EmitterInternals {
  _events?: object;
  _eventsCount?: number;
}

/**
 * Gives a fresh emitter that will get a few listeners a compact table. Does nothing once it
 * has listeners, nor to an emitter of another library (a `wsEngine`'s sockets may be one).
 */
export function compactListeners(emitter: EventEmitter): void {
  const internals = emitter as unknown as EmitterInternals;
  if (emitter instanceof EventEmitter && internals._eventsCount === 0) internals._events = new CompactTable();
}

/**
 * Drops the table of a fresh emitter that usually gets no listener at all: EventEmitter
 * accepts an emitter without one and makes it on the first listener added.
 */
export function deferListeners(emitter: EventEmitter): void {
  const internals = emitter as unknown as EmitterInternals;
  if (internals._eventsCount === 0) internals._events = undefined;
}

/**
 * Whether `emitter` has a listener for `event`, without calling emit(): Node's emit gathers
 * its arguments into a fresh array on every call, and a broadcast makes several calls per
 * recipient, nearly always with no listener.
 */
export function listens(emitter: EventEmitter, event: string): boolean {
  const events = (emitter as unknown as EmitterInternals)._events as Record<string, unknown> | undefined;
  return events !== undefined && events[event] !== undefined;
}
