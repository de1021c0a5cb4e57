import express, { type ErrorRequestHandler, type Router } from 'express';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { VERSION } from '../../version.js';
import { setWriteStallTimeout } from './drain.js';
import { sendTextError } from './error-status.js';
import { bodyParserError } from './json-body.js';
import { requestLog } from './request-log.js';

export interface AppOptions {
  logger: Logger;
  /** Routers mounted in order at the root; each owns its paths and body parsing. */
  routers: Router[];
  /** Middleware that runs before any router (CORS, auth). Defaults to none. */
  before?: express.RequestHandler[];
  /**
   * How long a streamed response may wait on a client that stopped reading before it is cut
   * (see drain.ts). Defaults to DEFAULT_WRITE_STALL_TIMEOUT_MS.
   */
  writeStallTimeoutMs?: number;
}

/** Aliases Docker Model Runner serves: /v1/* is /engines/v1/*, /rerank and /score live under /engines. */
const ALIASES: Array<[RegExp, string]> = [
  [/^\/v1(\/|$)/, '/engines/v1$1'],
  [/^\/(rerank|score)(\/|\?|$)/, '/engines/$1$2'],
];

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (options.writeStallTimeoutMs !== undefined) setWriteStallTimeout(app, options.writeStallTimeoutMs);

  // Collapse repeated slashes and apply aliases before routing, as Docker's NormalizedServeMux does.
  app.use((req, _res, next) => {
    let url = req.url.replace(/^\/{2,}/, '/').replace(/([^:])\/{2,}/g, '$1/');
    for (const [pattern, target] of ALIASES) url = url.replace(pattern, target);
    req.url = url;
    next();
  });
  app.use(requestLog(options.logger));
  for (const middleware of options.before ?? []) app.use(middleware);

  app.get('/', (_req, res) => {
    res.type('text/plain').send('Docker Model Runner is running');
  });
  app.head('/', (_req, res) => {
    res.status(200).end();
  });
  app.get('/version', (_req, res) => {
    res.json({ version: VERSION });
  });

  for (const router of options.routers) app.use(router);

  app.use((req, res) => {
    sendTextError(res, new AppError('not_found', `no route for ${req.method} ${req.path}`));
  });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = (err as { status?: number; type?: string }).status;
    // Body-parser failures arrive as http-errors with a status; keep their 4xx meaning.
    if (status && status >= 400 && status < 500) return sendTextError(res, bodyParserError(err));
    options.logger.error('unhandled error', { error: (err as Error)?.stack ?? String(err) });
    return sendTextError(res, err);
  };
  app.use(onError);
  return app;
}
