/**
 * The OpenAI Responses routes: POST responses, GET and DELETE responses/{id}, under /engines/v1,
 * /engines/llama.cpp/v1 and (through the app's alias) /v1.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../../errors.js';
import { BACKEND_NAME } from '../common/inference-deps.js';
import { routeWith } from '../common/handler.js';
import { countRequests } from '../common/metrics.js';
import { jsonBody } from '../common/json-body.js';
import { createResponsesHandler, type ResponsesDeps } from './responses-create-handler.js';
import { sendResponsesError } from './responses-errors.js';

const PATHS = ['/engines/v1/responses', '/engines/:backend/v1/responses'];
const ID_PATHS = PATHS.map((p) => `${p}/:id`);

/** Runs a handler for a known backend; whatever it throws is answered in OpenAI's error shape. */
function guarded(deps: ResponsesDeps, handler: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return routeWith((res, err) => sendResponsesError(res, err, deps.logger))(async (req, res) => {
    const backend = req.params.backend;
    if (backend !== undefined && backend !== BACKEND_NAME) throw new AppError('not_found', `backend "${backend}" not found`);
    await handler(req, res);
  });
}

export function createResponsesRouter(deps: ResponsesDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendResponsesError(res, error, deps.logger) });
  const create = createResponsesHandler(deps);
  const counted = (route: string) => countRequests(deps.metrics, route);
  router.post(PATHS, counted('/v1/responses'), body, guarded(deps, create));
  router.get(
    ID_PATHS,
    counted('/v1/responses/{id}'),
    guarded(deps, (req, res) => {
      res.json(deps.store.get(String(req.params.id)).response);
    }),
  );
  router.delete(
    ID_PATHS,
    counted('/v1/responses/{id}'),
    guarded(deps, (req, res) => {
      const id = String(req.params.id);
      deps.store.delete(id);
      res.json({ id, object: 'response', deleted: true });
    }),
  );
  return router;
}
