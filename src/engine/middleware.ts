import type { IncomingMessage, ServerResponse } from "node:http";

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Runs `middlewares` in order, Express-style; `done` gets the first error passed or thrown, or nothing. */
export function runMiddlewares(middlewares: readonly Middleware[], req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void {
  if (middlewares.length === 0) return done();
  let i = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) return done(err);
    const middleware = middlewares[i++];
    if (!middleware) return done();
    try {
      middleware(req, res, next);
    } catch (error) {
      done(error);
    }
  };
  next();
}
