/**
 * The namespace sockets one client has joined. Almost every client joins one namespace:
 * that socket is then held alone, as the value itself; a second one moves them all to a
 * `SocketsByNamespace` (by id and by namespace name, as the official server keeps them).
 * One slot per client either way, and no object of its own for the common case.
 */

/** What is kept of a joined socket. */
export interface JoinedSocket {
  readonly id: string;
  readonly nsp: { readonly name: string };
}

/** A client's sockets once it has joined more than one namespace. */
export class SocketsByNamespace<S extends JoinedSocket> {
  /** In the order they joined. */
  readonly byId = new Map<string, S>();
  readonly byNamespace = new Map<string, S>();

  add(socket: S): void {
    this.byId.set(socket.id, socket);
    this.byNamespace.set(socket.nsp.name, socket);
  }
}

/** The joined sockets: none, the sole one, or several. */
export type JoinedSockets<S extends JoinedSocket> = S | SocketsByNamespace<S> | undefined;

/** `joined` with `socket` added. */
export function withJoined<S extends JoinedSocket>(joined: JoinedSockets<S>, socket: S): JoinedSockets<S> {
  if (joined === undefined) return socket;
  if (joined instanceof SocketsByNamespace) {
    joined.add(socket);
    return joined;
  }
  const several = new SocketsByNamespace<S>();
  several.add(joined);
  several.add(socket);
  return several;
}

/** `joined` without `socket` (unless another socket took its id). */
export function withoutJoined<S extends JoinedSocket>(joined: JoinedSockets<S>, socket: S): JoinedSockets<S> {
  if (!(joined instanceof SocketsByNamespace)) return joined === socket ? undefined : joined;
  if (joined.byId.get(socket.id) === socket) {
    joined.byId.delete(socket.id);
    joined.byNamespace.delete(socket.nsp.name);
  }
  return joined;
}

/** The socket joined to namespace `name`, if any. */
export function joinedIn<S extends JoinedSocket>(joined: JoinedSockets<S>, name: string): S | undefined {
  if (joined instanceof SocketsByNamespace) return joined.byNamespace.get(name);
  return joined !== undefined && joined.nsp.name === name ? joined : undefined;
}

/** Whether a namespace is joined. */
export function hasJoined<S extends JoinedSocket>(joined: JoinedSockets<S>): boolean {
  return joined instanceof SocketsByNamespace ? joined.byNamespace.size > 0 : joined !== undefined;
}

/** The joined sockets (by id, in the order they joined), live as a Map iterator is. */
export function joinedList<S extends JoinedSocket>(joined: JoinedSockets<S>): Iterable<S> {
  if (joined instanceof SocketsByNamespace) return joined.byId.values();
  return joined === undefined ? [] : [joined];
}

/**
 * `joined` without its sockets by id; the names stay (as in the official server, they go
 * when the client closes: see `withNoneJoined`).
 */
export function withoutJoinedIds<S extends JoinedSocket>(joined: JoinedSockets<S>): JoinedSockets<S> {
  if (!(joined instanceof SocketsByNamespace)) return undefined;
  joined.byId.clear();
  return joined;
}

/** `joined` forgetting every socket. */
export function withNoneJoined<S extends JoinedSocket>(joined: JoinedSockets<S>): JoinedSockets<S> {
  if (!(joined instanceof SocketsByNamespace)) return undefined;
  joined.byId.clear();
  joined.byNamespace.clear();
  return joined;
}
