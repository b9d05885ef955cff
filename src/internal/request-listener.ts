import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `handle` ahead of the `request` listeners `server` has now: a request it answers
 * (returns true for) stops there, any other reaches those listeners in their order. Listeners
 * added later run after `handle` as usual.
 */
export function prependRequestHandler(server: EventEmitter, handle: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const previous = server.listeners("request").slice(0) as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (handle(req, res)) return;
    for (const listener of previous) listener.call(server, req, res);
  });
}
