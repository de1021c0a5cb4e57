/** The single table that turns domain error codes into HTTP statuses. */
import type { Response } from 'express';
import { type AppError, type ErrorCode, toAppError } from '../../errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_reference: 400,
  context_exceeded: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  unsupported: 422,
  too_large: 413,
  insufficient_memory: 507,
  insufficient_storage: 507,
  busy: 503,
  digest_mismatch: 502,
  upstream: 502,
  unavailable: 503,
  aborted: 499,
  store_locked: 500,
  internal: 500,
};

/** OpenAI's error `type` for each code, as OpenAI clients expect it. */
const OPENAI_TYPE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  bad_request: 'invalid_request_error',
  invalid_reference: 'invalid_request_error',
  not_found: 'not_found_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  context_exceeded: 'exceed_context_size_error',
  busy: 'unavailable_error',
  unavailable: 'unavailable_error',
  unsupported: 'invalid_request_error',
  too_large: 'invalid_request_error',
  insufficient_memory: 'server_error',
  insufficient_storage: 'server_error',
};

export function statusFor(err: AppError): number {
  return STATUS_BY_CODE[err.code] ?? 500;
}

/** Docker Model Runner's native routes answer errors as plain text, like Go's http.Error. */
export function sendTextError(res: Response, error: unknown): void {
  const err = toAppError(error);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(statusFor(err)).type('text/plain; charset=utf-8').set('X-Content-Type-Options', 'nosniff').send(`${err.message}\n`);
}

/** The OpenAI error body: {"error":{"message","type","param","code"}} plus any structured details. */
export function openAIErrorBody(error: unknown): { status: number; body: { error: Record<string, unknown> } } {
  const err = toAppError(error);
  const status = statusFor(err);
  const data = err.data ?? {};
  const { param, ...rest } = data as { param?: string } & Record<string, unknown>;
  if (err.code === 'context_exceeded') {
    // llama-server's own shape, which clients already parse: numeric code, no param, token counts in data.
    return { status, body: { error: { code: status, message: err.message, type: 'exceed_context_size_error', ...rest } } };
  }
  return {
    status,
    body: {
      error: {
        message: err.message,
        type: OPENAI_TYPE_BY_CODE[err.code] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: param ?? null,
        code: err.code,
        ...rest,
      },
    },
  };
}

export function sendOpenAIError(res: Response, error: unknown): void {
  const { status, body } = openAIErrorBody(error);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).json(body);
}
