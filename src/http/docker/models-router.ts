/**
 * Docker Model Runner's model-management routes (/models/...) and GET /engines/df. Thin: every
 * decision is the model service's or the catalog's; this file turns requests into their calls and
 * results into Docker's response shapes. Errors are plain text, like Go's http.Error.
 */
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response, type Router } from 'express';
import { AppError, isAbortError, toAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { isDiskFull } from '../../util/disk-full.js';
import type { Catalog, ModelService, ProgressEvent } from '../../models/index.js';
import { nodeLlamaCppDiskUsage } from './backend-disk-usage.js';
import { sendTextError } from '../common/error-status.js';
import { disconnectSignal } from '../common/disconnect.js';
import { routeWith } from '../common/handler.js';
import { jsonBody } from '../common/json-body.js';
import { ByteLimit } from '../common/byte-limit.js';
import { receiveGgufUpload, type UploadedGguf } from './model-upload.js';
import { ProgressStream } from '../common/progress-stream.js';

export interface ModelsRouterDeps {
  catalog: Catalog;
  logger: Logger;
  /** Largest model accepted by POST /models/load, as tar or as a multipart GGUF. */
  maxUploadBytes: number;
  /** Where multipart uploads are saved while they are packaged. */
  uploadDir: string;
  /** Bytes used by the inference backend, for /engines/df. Defaults to the size of node-llama-cpp's binary package. */
  backendDiskUsage?: () => Promise<number>;
  /**
   * Resolve, show, delete and purge with the policy every dialect shares (unloading what a delete
   * removes, refusing a busy model unless forced).
   */
  models: ModelService;
}

/** Docker caps these JSON bodies; a model reference and a token fit many times over. */
const JSON_BODY_LIMIT = 1024 * 1024;
const TAR_TYPES = ['application/x-tar', 'application/tar', 'application/octet-stream'];

/** Anything a handler throws becomes a plain-text error response, like Go's http.Error. */
const route = routeWith(sendTextError);

/** JSON body parsing whose failures are answered as 400/413 plain text that changes nothing. */
const parseJson = jsonBody({ limitBytes: JSON_BODY_LIMIT, sendError: sendTextError });

/**
 * The `{name...}` wildcard as a model name. Express has already decoded each segment, so a segment
 * holding "/" or "\" came from an escaped slash; it, empty segments and dot segments are refused
 * before anything looks the name up.
 */
export function modelNameFrom(segments: unknown): string {
  const parts = Array.isArray(segments) ? (segments as unknown[]) : [segments];
  if (parts.length === 0) throw new AppError('invalid_reference', 'missing model name');
  for (const part of parts) {
    if (typeof part !== 'string' || part === '' || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
      throw new AppError('invalid_reference', `invalid model name ${JSON.stringify(parts.join('/'))}`);
    }
  }
  return parts.join('/');
}

/** Go's strconv.ParseBool, with a bare key (`?force`) meaning true. */
export function parseBoolQuery(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
  if (text === '' || ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new AppError('bad_request', `invalid value for ${name}: ${JSON.stringify(text)}`);
}

function queryString(value: unknown): string | undefined {
  if (Array.isArray(value)) return queryString(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}

function bearerTokenOf(body: unknown): string | undefined {
  const token = (body as Record<string, unknown> | undefined)?.['bearer-token'];
  return typeof token === 'string' && token !== '' ? token : undefined;
}


/**
 * Runs a pull or push and streams its events. Errors before the first line keep their status;
 * afterwards they become an error line. A vanished client gets nothing.
 */
async function streamTransfer(
  req: Request,
  res: Response,
  logger: Logger,
  run: (onEvent: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const stream = new ProgressStream(req, res);
  const { signal } = disconnectSignal(res);
  try {
    await run((event) => void stream.write(event), signal);
    stream.end();
  } catch (err) {
    if (signal.aborted || isAbortError(err) || (err instanceof AppError && err.code === 'aborted')) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (!stream.started) throw err;
    logger.warn('transfer failed after streaming started', { url: req.originalUrl, error: (err as Error).message });
    const error = toAppError(err);
    stream.fail(error.message, error.code);
  }
}

export function createModelsRouter(deps: ModelsRouterDeps): Router {
  const { catalog, models, logger } = deps;
  const backendDiskUsage = deps.backendDiskUsage ?? nodeLlamaCppDiskUsage;
  const router = express.Router();

  router.get('/models', route(async (_req, res) => {
    res.json(await catalog.list());
  }));

  router.post('/models/create', parseJson, route(async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const from = body?.from;
    if (typeof from !== 'string' || from.trim() === '') {
      throw new AppError('invalid_reference', 'Invalid model reference: "from" must name the model to pull');
    }
    const bearerToken = bearerTokenOf(body);
    await streamTransfer(req, res, logger, (onEvent, signal) => catalog.pull(from, { bearerToken, onEvent, signal }));
  }));

  router.post('/models/load', route(async (req, res) => {
    if (req.is('multipart/form-data')) return loadUpload(req, res);
    const type = req.get('content-type');
    if (type !== undefined && !TAR_TYPES.some((t) => req.is(t))) {
      throw new AppError('bad_request', `POST /models/load takes application/x-tar or multipart/form-data, not ${JSON.stringify(type)}`);
    }
    const length = Number(req.get('content-length'));
    if (Number.isFinite(length) && length > deps.maxUploadBytes) {
      res.set('Connection', 'close');
      throw new AppError('too_large', `the uploaded model is larger than the limit of ${deps.maxUploadBytes} bytes`);
    }
    const limited = new ByteLimit(deps.maxUploadBytes);
    req.on('error', (err) => limited.destroy(err));
    req.pipe(limited);
    try {
      const stream = new ProgressStream(req, res);
      const id = await catalog.loadTar(limited, { onEvent: (event) => void stream.write(event), sizeBytes: Number.isFinite(length) ? length : undefined });
      void stream.write({ type: 'success', message: 'Model loaded successfully', id });
      res.end();
    } catch (err) {
      req.unpipe(limited);
      // The rest of the body is unread; closing the connection is cheaper than draining gigabytes.
      res.set('Connection', 'close');
      throw err;
    }
  }));

  async function loadUpload(req: Request, res: Response): Promise<void> {
    const what = 'load the uploaded model';
    // The upload is saved in the store's file system, then copied into a blob: twice its size at the peak.
    const length = Number(req.get('content-length'));
    const neededBytes = Number.isFinite(length) ? 2 * length : 0;
    let upload: UploadedGguf;
    try {
      await catalog.ensureSpace(what, neededBytes);
      upload = await receiveGgufUpload(req, res, { uploadDir: deps.uploadDir, maxBytes: deps.maxUploadBytes });
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      res.set('Connection', 'close');
      throw err instanceof AppError && err.code === 'insufficient_storage' ? err : await catalog.diskFilledUp(what, neededBytes, err);
    }
    try {
      const stream = new ProgressStream(req, res);
      const { id } = await catalog.importGguf(upload.path, { tag: upload.tag, what, onEvent: (event) => void stream.write(event) });
      void stream.write({ type: 'success', message: 'Model loaded successfully', id });
      res.end();
    } finally {
      await upload.cleanup();
    }
  }

  router.delete('/models/purge', route(async (req, res) => {
    if (parseBoolQuery(req.query.partials, 'partials')) {
      // Only what downloads left behind: no model is touched, so nothing needs unloading.
      const purged = await catalog.purgeLeftovers();
      res.json({ partial_downloads: purged.partials, unreferenced_blobs: purged.blobs, freed_bytes: purged.freedBytes });
      return;
    }
    await models.purge();
    res.status(200).end();
  }));

  router.get('/models/*name', route(async (req, res) => {
    const segments = req.params.name as unknown as string[];
    if (segments.length > 1 && segments[segments.length - 1] === 'export') {
      const { id, stream } = await catalog.exportTar(modelNameFrom(segments.slice(0, -1)));
      res.status(200).type('application/x-tar');
      res.set('Content-Disposition', `attachment; filename="${id.slice('sha256:'.length, 'sha256:'.length + 12)}.tar"`);
      try {
        await pipeline(stream, res);
      } catch (err) {
        // Headers are gone; the only honest signal left is a cut connection.
        logger.warn('export failed', { id, error: (err as Error).message });
        res.destroy();
      }
      return;
    }
    const name = modelNameFrom(segments);
    if (parseBoolQuery(req.query.remote, 'remote')) {
      res.json(await catalog.getRemote(name, { signal: disconnectSignal(res).signal }));
      return;
    }
    res.json((await models.show(name)).model);
  }));

  router.delete('/models/*name', route(async (req, res) => {
    const name = modelNameFrom(req.params.name);
    const force = parseBoolQuery(req.query.force, 'force');
    res.json((await models.delete(name, { force })).actions);
  }));

  router.post('/models/*name', parseJson, route(async (req, res) => {
    const segments = req.params.name as unknown as string[];
    const action = segments[segments.length - 1]!;
    if (segments.length < 2 || (action !== 'tag' && action !== 'push')) {
      throw new AppError('not_found', `unknown action ${JSON.stringify(action)}`);
    }
    const name = modelNameFrom(segments.slice(0, -1));
    if (action === 'tag') {
      const repo = queryString(req.query.repo);
      const tag = queryString(req.query.tag);
      await catalog.tag(name, repo, tag);
      const target = `${repo}:${tag}`;
      res.status(201).json({ message: `Model tagged successfully with ${JSON.stringify(target)}`, target });
      return;
    }
    const bearerToken = bearerTokenOf(req.body);
    await streamTransfer(req, res, logger, (onEvent, signal) => catalog.push(name, { bearerToken, onEvent, signal }));
  }));

  router.get('/engines/df', route(async (_req, res) => {
    const [models, backend, space] = await Promise.all([catalog.diskUsage(), backendDiskUsage().catch(() => 0), catalog.space()]);
    res.json({
      models_disk_usage: models,
      default_backend_disk_usage: backend,
      // Ours, after Docker's two fields: room left and what `purge --partials` would free.
      store_free_bytes: space.freeBytes,
      store_total_bytes: space.totalBytes,
      reclaimable_bytes: space.partialBytes + space.unreferencedBytes,
      partial_downloads_bytes: space.partialBytes,
      unreferenced_blobs_bytes: space.unreferencedBytes,
    });
  }));

  return router;
}
