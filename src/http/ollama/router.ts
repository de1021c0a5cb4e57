/**
 * Ollama-compatible routes under /api/*: model listing and management through a narrow catalog
 * port, inference through the same scheduler leases as the OpenAI routes. Errors are
 * {"error": "message"} with the status the shared table gives their code.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../../errors.js';
import { parseModelName, requireObjectBody } from '../../ollama/common.js';
import { toOllamaPs, toOllamaTags } from '../../ollama/lists.js';
import { toOllamaShow } from '../../ollama/show.js';
import { optionalString } from '../../openai/validate.js';
import { VERSION } from '../../version.js';
import { jsonBody } from '../common/json-body.js';
import { countRequests, type Metrics } from '../common/metrics.js';
import { recordRequests } from '../common/request-history.js';
import { createBlobHandlers } from './blobs.js';
import { createOllamaCreateHandler } from './create.js';
import { createOllamaEmbedHandler } from './embed.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler, sendOllamaError } from './errors.js';
import { createOllamaGenerateHandler } from './generate.js';
import { createOllamaPullHandler } from './pull.js';
import { createOllamaPushHandler } from './push.js';

export type { OllamaCatalogPort, OllamaDeps } from './deps.js';

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field)?.trim();
  if (!value) throw new AppError('bad_request', `${field} is required`, { data: { param: field } });
  return value;
}

function managementHandlers(deps: OllamaDeps) {
  return {
    async tags(_req: Request, res: Response): Promise<void> {
      res.json(toOllamaTags(await deps.listModels()));
    },
    async ps(_req: Request, res: Response): Promise<void> {
      const entries = deps.scheduler.ps();
      res.json(toOllamaPs(entries, entries.length > 0 ? await deps.listModels() : []));
    },
    async show(req: Request, res: Response): Promise<void> {
      const name = parseModelName(requireObjectBody(req.body));
      const [{ model, capabilities }, extras] = await Promise.all([deps.catalog.show(name), deps.catalog.extras(name)]);
      res.json(toOllamaShow(name, model, capabilities, extras));
    },
    async remove(req: Request, res: Response): Promise<void> {
      const name = parseModelName(requireObjectBody(req.body));
      // The model service unloads what the delete removes, as it does for Docker's DELETE.
      await deps.catalog.remove(name);
      res.status(200).end();
    },
    async copy(req: Request, res: Response): Promise<void> {
      const body = requireObjectBody(req.body);
      await deps.catalog.copy(requiredString(body, 'source'), requiredString(body, 'destination'));
      res.status(200).end();
    },
  };
}

export function createOllamaRouter(deps: OllamaDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendOllamaError(res, error, deps.logger) });
  const handle = (handler: (req: Request, res: Response) => Promise<void>) => ollamaHandler(deps.logger, handler);
  const count = (path: string) => countRequests(deps.metrics, path);
  const m = managementHandlers(deps);

  const version: RequestHandler = (_req, res) => {
    res.json({ version: VERSION });
  };
  // Express answers HEAD with the GET route (headers, no body), which is what Ollama's HEAD does.
  router.get('/api/version', version);
  router.get('/api/tags', count('/api/tags'), handle(m.tags));
  router.get('/api/ps', count('/api/ps'), handle(m.ps));
  router.post('/api/show', count('/api/show'), body, handle(m.show));
  router.delete('/api/delete', count('/api/delete'), body, handle(m.remove));
  router.post('/api/copy', count('/api/copy'), body, handle(m.copy));
  router.post('/api/pull', count('/api/pull'), body, createOllamaPullHandler(deps));
  router.post('/api/push', count('/api/push'), body, createOllamaPushHandler(deps));
  router.post('/api/create', count('/api/create'), body, createOllamaCreateHandler(deps));
  // The body is the blob's bytes, streamed into the store: no body parser runs before it.
  const blobs = createBlobHandlers(deps);
  router.head('/api/blobs/:digest', count('/api/blobs'), blobs.head);
  router.post('/api/blobs/:digest', count('/api/blobs'), blobs.upload);
  const record = deps.requestHistory ? [recordRequests(deps.requestHistory)] : [];
  router.post('/api/chat', count('/api/chat'), body, ...record, createOllamaGenerateHandler(deps, 'chat'));
  router.post('/api/generate', count('/api/generate'), body, ...record, createOllamaGenerateHandler(deps, 'generate'));
  router.post('/api/embed', count('/api/embed'), body, ...record, createOllamaEmbedHandler(deps, false));
  router.post('/api/embeddings', count('/api/embeddings'), body, ...record, createOllamaEmbedHandler(deps, true));
  return router;
}
