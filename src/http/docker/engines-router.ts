/**
 * Docker Model Runner's engine management routes: status, ps, unload and _configure. Native
 * routes, so errors are plain text like Go's http.Error.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError, isAppError } from '../../errors.js';
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

export function createEnginesRouter(deps: InferenceDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: sendTextError });

  /** The display name of a model ID: its first tag, as /models lists it. */
  const nameById = async (): Promise<Map<string, string>> =>
    new Map((await deps.listModels()).map((m) => [m.id, m.tags[0] ?? m.id] as const));

  /** Docker passes names it cannot resolve through unchanged; the scheduler matches them against what it loaded. */
  const resolveId = async (name: string): Promise<string> => {
    try {
      return (await deps.resolveModel(name, 'completion')).id;
    } catch (err) {
      if (isAppError(err) && (err.code === 'not_found' || err.code === 'invalid_reference')) return name;
      throw err;
    }
  };

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
      const models = await Promise.all(request.models.map(resolveId));
      const unloaded = await deps.scheduler.unload({ all: request.all, models });
      res.json({ unloaded_runners: unloaded });
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
      const spec = await deps.resolveModel(request.model, request.mode);
      const settings = await deps.settings.set(spec.id, request.patch);
      // Persisted first so a model that is busy now picks the settings up at its next load.
      await deps.scheduler.reconfigure(spec.id);
      res.status(202).json(toConfigureEntry(BACKEND_NAME, request.model, spec.id, request.mode, settings));
    }),
  );

  router.get(
    '/engines/_configure',
    textHandler(async (req, res) => {
      const all = await deps.settings.list();
      let ids = Object.keys(all);
      const model = typeof req.query.model === 'string' ? req.query.model.trim() : '';
      if (model !== '') {
        const id = (await deps.resolveModel(model, 'completion')).id;
        ids = ids.filter((candidate) => candidate === id);
      }
      const names = await nameById();
      res.json(ids.map((id) => toConfigureEntry(BACKEND_NAME, names.get(id) ?? id, id, 'completion', all[id]!)));
    }),
  );

  return router;
}
