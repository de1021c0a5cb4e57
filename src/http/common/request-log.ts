import type { RequestHandler } from 'express';
import type { Logger } from '../../log.js';

/** One log line per request once it ends: method, path, status, milliseconds. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const aborted = !res.writableFinished;
      logger.info(`${req.method} ${req.originalUrl.split('?')[0]} ${res.statusCode} ${ms.toFixed(1)}ms${aborted ? ' (client closed)' : ''}`);
    });
    next();
  };
}
