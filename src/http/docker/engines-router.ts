/**
 * Docker Model Runner's engine management routes: status, ps, unload and _configure. Native
 * routes, so errors are plain text like Go's http.Error.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../../errors.js';
import type { ModelService } from '../../models/index.js';
import { parseConfigureRequest, toConfigureEntry } from './configure-request.js';
import { sendTextError } from '../common/error-status.js';
import { BACKEND_NAME, type InferenceDeps, type PsEntry } from '../common/inference-deps.js';
import { routeWith } from '../common/handler.js';
import { jsonBody } from '../common/json-body.js';

function toPsJson(entry: PsEntry) {
  return {
    backend_name: BACKEND_NAME,
    model_name: entry.name,
    model_id: entry.id,
    mode: entry.mode,
    context_size: entry.contextSize,
    parallel: entry.parallel,
    threads: entry.threads,
    memory_bytes: entry.memoryBytes,
    in_use: entry.inUse,
    loading: entry.loading,
    keep_alive: entry.keepAlive,
    expires_at: entry.expiresAt,
    last_used: entry.lastUsed,
  };
}

function checkBackendName(backend: unknown): void {
  if (backend !== undefined && backend !== null && backend !== '' && backend !== BACKEND_NAME) {
    throw new AppError('not_found', `backend ${JSON.stringify(backend)} not found`);
  }
}

/** Docker's routes answer errors as plain text, like Go's http.Error. */
const textHandler = routeWith(sendTextError);

function parseUnloadBody(body: unknown): { all: boolean; models: string[] } {
  const object = (body ?? {}) as Record<string, unknown>;
  if (typeof object !== 'object' || Array.isArray(object)) throw new AppError('bad_request', 'invalid request: the body must be a JSON object');
  checkBackendName(object.backend);
  const all = object.all ?? false;
  if (typeof all !== 'boolean') throw new AppError('bad_request', 'all must be a boolean');
  const models = object.models ?? [];
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string')) {
    throw new AppError('bad_request', 'models must be an array of model names');
  }
  return { all, models: models as string[] };
}

export interface EnginesRouterDeps extends InferenceDeps {
  /** Unload and configure with the policy every dialect shares. */
  models: ModelService;
}

export function createEnginesRouter(deps: EnginesRouterDeps): Router {
  const { models } = deps;
  const router = Router();
  const body = jsonBody({ sendError: sendTextError });

  router.get('/engines/status', (_req, res) => {
    const { backend, version } = deps.scheduler.status();
    res.json({ [BACKEND_NAME]: `Running: ${BACKEND_NAME} ${backend} ${version}` });
  });

  router.get('/engines/ps', (_req, res) => {
    res.json(deps.scheduler.ps().map(toPsJson));
  });

  // Docker Model Runner's request recorder: the last requests per model, newest first.
  router.get(
    '/engines/requests',
    textHandler(async (req, res) => {
      const model = typeof req.query.model === 'string' && req.query.model !== '' ? req.query.model : undefined;
      res.json(deps.requestHistory?.list(model) ?? []);
    }),
  );

  router.post(
    '/engines/unload',
    body,
    textHandler(async (req, res) => {
      const request = parseUnloadBody(req.body);
      // Docker counts runners; a name no model has simply unloads nothing.
      const { unloadedRunners } = await models.unload({ all: request.all, names: request.models });
      res.json({ unloaded_runners: unloadedRunners });
    }),
  );

  router.post(
    ['/engines/_configure', '/engines/:backend/_configure'],
    (req, res, next) => {
      try {
        checkBackendName(req.params.backend);
        next();
      } catch (err) {
        sendTextError(res, err);
      }
    },
    body,
    textHandler(async (req, res) => {
      const request = parseConfigureRequest(req.body);
      const { id, settings, pending } = await models.configure(request.model, request.mode, request.patch);
      // Stored either way; Docker's answer for a model too busy to apply them now is a 409.
      if (pending) throw pending;
      res.status(202).json(toConfigureEntry(BACKEND_NAME, request.model, id, request.mode, settings));
    }),
  );

  router.get(
    '/engines/_configure',
    textHandler(async (req, res) => {
      const model = typeof req.query.model === 'string' ? req.query.model : undefined;
      const configured = await models.configured(model);
      res.json(configured.map((entry) => toConfigureEntry(BACKEND_NAME, entry.name, entry.id, 'completion', entry.settings)));
    }),
  );

  return router;
}
