/** Errors in Anthropic's shape, {type:"error",error:{type,message}}, from the AppError code table. */
import type { Response } from 'express';
import { type AppError, type ErrorCode, toAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { statusFor } from '../common/error-status.js';
import { writeChunk } from '../common/drain.js';
import { sseEventFrame } from '../common/sse.js';

const TYPE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  bad_request: 'invalid_request_error',
  invalid_reference: 'invalid_request_error',
  context_exceeded: 'invalid_request_error',
  unsupported: 'invalid_request_error',
  not_found: 'not_found_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  too_large: 'request_too_large',
  busy: 'overloaded_error',
  unavailable: 'overloaded_error',
};

export function anthropicErrorBody(error: unknown): { status: number; body: { type: 'error'; error: { type: string; message: string } } } {
  const err = toAppError(error);
  const status = err.code === 'busy' ? 529 : statusFor(err);
  const type = TYPE_BY_CODE[err.code] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { status, body: { type: 'error', error: { type, message: err.message } } };
}

function logIfServerError(err: AppError, logger: Logger | undefined): void {
  if (statusFor(err) >= 500 && err.code !== 'busy' && err.code !== 'unavailable') {
    logger?.error('anthropic request failed', { code: err.code, error: (err.cause as Error)?.stack ?? err.message });
  }
}

export function sendAnthropicError(res: Response, error: unknown, logger?: Logger): void {
  const err = toAppError(error);
  logIfServerError(err, logger);
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const { status, body } = anthropicErrorBody(err);
  // The official SDKs retry every 5xx unless told not to; a failed generation would just run again.
  if (status >= 500) res.setHeader('x-should-retry', 'false');
  res.status(status).json(body);
}

/** After the stream opened: an `error` event, then the end. */
export async function sendAnthropicStreamError(res: Response, error: unknown, logger?: Logger): Promise<void> {
  const err = toAppError(error);
  logIfServerError(err, logger);
  await writeChunk(res, sseEventFrame('error', anthropicErrorBody(err).body));
  if (!res.writableEnded) res.end();
}
