/** How inference routes report errors: OpenAI-shaped JSON before a stream starts, an error frame after. */
import type { Response } from 'express';
import { type AppError, toAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { openAIErrorBody, sendOpenAIError, statusFor } from './error-status.js';
import type { SseWriter } from './sse.js';

/** Seconds a client is told to wait when the queue is full and the scheduler names no figure. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

function logIfServerError(err: AppError, logger: Logger | undefined): void {
  if (statusFor(err) >= 500 && err.code !== 'busy' && err.code !== 'unavailable') {
    logger?.error('inference request failed', { code: err.code, error: (err.cause as Error)?.stack ?? err.message });
  }
}

export function sendInferenceError(res: Response, error: unknown, logger?: Logger): void {
  const err = toAppError(error);
  logIfServerError(err, logger);
  if (err.code === 'busy' && !res.headersSent) {
    const seconds = Number(err.data?.retryAfterSeconds);
    res.setHeader('Retry-After', String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : DEFAULT_RETRY_AFTER_SECONDS));
  }
  sendOpenAIError(res, err);
}

/** Once SSE headers are out the status cannot change; the error travels as a `data:` frame and the stream ends. */
export async function sendStreamError(sse: SseWriter, error: unknown, logger?: Logger): Promise<void> {
  const err = toAppError(error);
  logIfServerError(err, logger);
  await sse.send(openAIErrorBody(err).body);
  sse.end();
}
