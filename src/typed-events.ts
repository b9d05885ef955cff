/**
 * Typed events. A server is typed by the events it listens to, the events it emits and
 * the events servers exchange; these helpers turn those maps into method signatures so
 * that a wrong event name, payload or acknowledgement callback is a compile error.
 */
import { EventEmitter } from "node:events";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Event name → listener signature. */
export interface EventsMap {
  [event: string]: any;
}

/** The untyped default: any event with any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** The last element of a tuple (for a plain array, its element type). */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L]
  ? L
  : T extends ReadonlyArray<infer E>
    ? E
    : never;

/** A tuple without its last element (for a plain array, any[]). */
export type AllButLast<T extends any[]> = T extends [...infer Head, unknown] ? Head : any[];

/** The first argument of a callback that is not the timeout error. */
export type FirstNonErrorArg<T> = T extends (...args: infer P) => any ? (P[0] extends Error ? P[1] : P[0]) : any;

/** The acknowledgement callback of a listener signature: its last parameter, if any. */
type AckOf<F> = F extends (...args: infer P) => any ? (P extends [] ? never : Last<P>) : never;

type Fn = (...args: any[]) => any;

/**
 * What an event's acknowledgement is: "untyped" (the listener or its acknowledgement is
 * `any`), "none" (no acknowledgement), "void" (answers nothing) or "value".
 */
type AckKind<F> =
  IsAny<F> extends true
    ? "untyped"
    : IsAny<AckOf<F>> extends true
      ? "untyped"
      : AckOf<F> extends Fn
        ? FirstNonErrorArg<AckOf<F>> extends void
          ? "void"
          : "value"
        : "none";

/** Events whose last argument is an acknowledgement that answers with a value. */
export type EventNamesWithAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> = K extends any
  ? AckKind<Map[K]> extends "untyped" | "value"
    ? K
    : never
  : never;

/** Events that take no acknowledgement (what a broadcast without timeout may emit). */
export type EventNamesWithoutAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> = K extends any
  ? AckKind<Map[K]> extends "untyped" | "none"
    ? K
    : never
  : never;

/** Events whose acknowledgement starts with an error (after `timeout()`): usable with `emitWithAck`. */
export type EventNamesWithError<Map extends EventsMap, K extends EventNamesWithAck<Map> = EventNamesWithAck<Map>> = K extends any
  ? IsAny<AckOf<Map[K]> | Map[K]> extends true
    ? K
    : AckOf<Map[K]> extends (...args: infer P) => any
      ? P[0] extends Error
        ? K
        : never
      : never
  : never;

export type RemoveAcknowledgements<E extends EventsMap> = { [K in EventNamesWithoutAck<E>]: E[K] };

/** Callbacks in a parameter list gain a leading `err: Error` (the timeout). */
type WithTimeoutError<P extends any[]> = {
  [I in keyof P]: P[I] extends (...args: infer A) => infer R ? (A[0] extends Error ? P[I] : (err: Error, ...args: A) => R) : P[I];
};

/** A callback's answer becomes the list of every recipient's answer. */
type FirstAsList<A extends any[]> = A extends [infer First, ...any[]] ? [responses: First[]] : [];
type WithMultipleResponses<P extends any[]> = {
  [I in keyof P]: P[I] extends (...args: infer A) => infer R
    ? A extends [Error]
      ? (err: Error) => R
      : A extends [Error, ...infer Rest]
        ? (err: Error, ...args: FirstAsList<Rest>) => R
        : (...args: FirstAsList<A>) => R
    : P[I];
};

export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: WithTimeoutError<P>) => R : E[K];
};

export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: WithMultipleResponses<P>) => R : E[K];
};

export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: WithMultipleResponses<WithTimeoutError<P>>) => R : E[K];
};

export type ReservedOrUserEventNames<Reserved extends EventsMap, User extends EventsMap> =
  | EventNames<Reserved>
  | EventNames<User>;

type UntypedIfNever<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

export type ReservedOrUserListener<
  Reserved extends EventsMap,
  User extends EventsMap,
  Ev extends ReservedOrUserEventNames<Reserved, User>,
> = UntypedIfNever<Ev extends EventNames<Reserved> ? Reserved[Ev] : Ev extends EventNames<User> ? User[Ev] : never>;

export interface TypedEventBroadcaster<EmitEvents extends EventsMap> {
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
}

/**
 * An EventEmitter whose `on`/`once` know the listen events (plus reserved ones) and whose
 * `emit` knows the emit events. Reserved events are emitted only from inside the library.
 */
export abstract class StrictEventEmitter<
    ListenEvents extends EventsMap,
    EmitEvents extends EventsMap,
    // socket.io's default: no reserved events.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    ReservedEvents extends EventsMap = {},
  >
  extends EventEmitter
  implements TypedEventBroadcaster<EmitEvents>
{
  override on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.on(ev, listener as Fn);
  }

  override once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.once(ev, listener as Fn);
  }

  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return super.emit(ev, ...args);
  }

  protected emitReserved<Ev extends EventNames<ReservedEvents>>(ev: Ev, ...args: EventParams<ReservedEvents, Ev>): boolean {
    return super.emit(ev, ...args);
  }

  protected emitUntyped(ev: string, ...args: any[]): boolean {
    return super.emit(ev, ...args);
  }

  override listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[] {
    return super.listeners(event) as ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
  }
}
