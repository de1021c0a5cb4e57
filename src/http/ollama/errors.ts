/**
 * How the Ollama routes report errors: {"error": "message"} with the status from the one table
 * (STATUS_BY_CODE), before a stream starts; an {"error"} line that ends the stream after.
 */
import type { RequestHandler, Response } from 'express';
import { toAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { statusFor } from '../common/error-status.js';
import { type AsyncRoute, routeWith } from '../common/handler.js';
import type { NdjsonWriter } from '../common/ndjson.js';

function logIfServerError(status: number, error: unknown, logger: Logger | undefined): void {
  const err = toAppError(error);
  if (status >= 500 && err.code !== 'busy' && err.code !== 'unavailable') {
    logger?.error('ollama request failed', { code: err.code, error: (err.cause as Error)?.stack ?? err.message });
  }
}

export function sendOllamaError(res: Response, error: unknown, logger?: Logger): void {
  const err = toAppError(error);
  const status = statusFor(err);
  logIfServerError(status, err, logger);
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  if (err.code === 'busy') {
    const seconds = Number(err.data?.retryAfterSeconds);
    res.setHeader('Retry-After', String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1));
  }
  res.status(status).json({ error: err.message });
}

/** Once NDJSON is flowing the status is spent; Ollama's clients read an {"error"} line instead. */
export async function sendOllamaStreamError(writer: NdjsonWriter, error: unknown, logger?: Logger): Promise<void> {
  const err = toAppError(error);
  logIfServerError(statusFor(err), err, logger);
  await writer.write({ error: err.message });
  writer.end();
}

/** Runs an async handler and answers whatever it throws in Ollama's shape; a gone client gets nothing. */
export function ollamaHandler(logger: Logger, handler: AsyncRoute): RequestHandler {
  return routeWith((res, err) => sendOllamaError(res, err, logger))(handler);
}
