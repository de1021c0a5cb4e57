/**
 * The one way a route runs async work: whatever the handler throws is answered by the dialect's
 * error renderer, unless the response is already over (the client left, or a stream ended), in
 * which case there is nobody to tell. Express 5 would pass a rejection to the app's error handler,
 * which speaks no dialect; routers mount their handlers through this instead.
 */
import type { Request, RequestHandler, Response } from 'express';

/** Writes one error in a dialect's shape (see each dialect folder's errors file). */
export type ErrorRenderer = (res: Response, err: unknown) => void;

export type AsyncRoute = (req: Request, res: Response) => Promise<void>;

/** A route factory bound to one dialect's renderer: `const route = routeWith(sendTextError)`. */
export function routeWith(render: ErrorRenderer): (handler: AsyncRoute) => RequestHandler {
  return (handler) => async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (res.destroyed || res.writableEnded) return;
      render(res, err);
    }
  };
}
