/**
 * The OpenAI-compatible inference routes, under /engines/v1/... and /engines/llama.cpp/v1/...
 * (the app maps /v1/... onto /engines/v1/...).
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../errors.js';
import { parseEmbeddingsRequest } from '../openai/embeddings-request.js';
import { buildEmbeddingsResponse } from '../openai/embeddings-response.js';
import { toOpenAIModel, toOpenAIModelList } from '../openai/models.js';
import { createGenerateHandler } from './generate-handlers.js';
import type { InferenceDeps } from './inference-deps.js';
import { sendInferenceError } from './inference-errors.js';
import { jsonBody } from './json-body.js';
import { isPreloadOnly, parsePreloadBody, withLease } from './lease-scope.js';
import type { Metrics } from './metrics.js';

/** The only backend this server runs; /engines/{backend}/v1 accepts this name alone. */
export const BACKEND_NAME = 'llama.cpp';

/** Both spellings of an inference path: the default backend and the named one. */
function inferencePaths(suffix: string): string[] {
  return [`/engines/v1/${suffix}`, `/engines/:backend/v1/${suffix}`];
}

const checkBackend: RequestHandler = (req, res, next) => {
  const backend = req.params.backend;
  if (backend !== undefined && backend !== BACKEND_NAME) {
    sendInferenceError(res, new AppError('not_found', `backend "${backend}" not found`));
    return;
  }
  next();
};

/** Counts each request once it ends, under a stable route label whichever prefix it came by. */
export function countRequests(metrics: Metrics, route: string): RequestHandler {
  return (req, res, next) => {
    res.on('close', () => {
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}

/** Express 5 gives a `*name` wildcard as its path segments. */
function wildcardName(value: unknown): string {
  return Array.isArray(value) ? value.join('/') : String(value ?? '');
}

/** Runs an async handler and answers any error in OpenAI's shape. */
function openAIHandler(deps: InferenceDeps, handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (!res.headersSent) sendInferenceError(res, err, deps.logger);
      else if (!res.writableEnded) res.end();
    }
  };
}

function embeddingsHandler(deps: InferenceDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const parsed = isPreloadOnly(req) ? undefined : parseEmbeddingsRequest(req.body);
    const target = parsed ?? parsePreloadBody(req.body);
    const spec = await deps.resolveModel(target.model, 'embedding');
    await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: target.keepAlive }, async (lease, signal) => {
      const result = await lease.session.embed(parsed!.request, signal);
      if (signal.aborted) return;
      deps.metrics.promptTokens.inc({ model: spec.name }, result.promptTokens);
      res.json(buildEmbeddingsResponse({ model: parsed!.model, result, encodingFormat: parsed!.encodingFormat }));
    });
  };
}

function modelHandlers(deps: InferenceDeps) {
  return {
    async list(_req: Request, res: Response): Promise<void> {
      res.json(toOpenAIModelList(await deps.listModels()));
    },
    async show(req: Request, res: Response): Promise<void> {
      const name = wildcardName(req.params.name);
      const spec = await deps.resolveModel(name, 'completion');
      const model = (await deps.listModels()).find((m) => m.id === spec.id);
      if (!model) throw new AppError('not_found', `model "${name}" not found`);
      res.json(toOpenAIModel(model));
    },
  };
}

export function createInferenceRouter(deps: InferenceDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendInferenceError(res, error, deps.logger) });
  const models = modelHandlers(deps);
  const post = (suffix: string, handler: RequestHandler) =>
    router.post(inferencePaths(suffix), checkBackend, countRequests(deps.metrics, `/v1/${suffix}`), body, handler);
  const get = (suffix: string, route: string, handler: RequestHandler) =>
    router.get(inferencePaths(suffix), checkBackend, countRequests(deps.metrics, route), handler);

  post('chat/completions', createGenerateHandler(deps, 'chat'));
  post('completions', createGenerateHandler(deps, 'completion'));
  post('embeddings', openAIHandler(deps, embeddingsHandler(deps)));
  get('models', '/v1/models', openAIHandler(deps, models.list));
  get('models/*name', '/v1/models/{name}', openAIHandler(deps, models.show));
  return router;
}
