/** The Responses routes' one error renderer: OpenAI's error shape, and no SDK retries of a 5xx. */
import type { Response } from 'express';
import { toAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { statusFor } from '../common/error-status.js';
import { sendInferenceError } from '../common/inference-errors.js';

/**
 * The official SDKs retry every 5xx three times unless told not to; a failed generation would
 * only fail again, so every 5xx says so.
 */
export function sendResponsesError(res: Response, error: unknown, logger?: Logger): void {
  const err = toAppError(error);
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  if (statusFor(err) >= 500) res.setHeader('x-should-retry', 'false');
  sendInferenceError(res, err, logger);
}
