/**
 * Turns a non-2xx answer into an AppError carrying the server's own words. Native routes answer
 * plain text (Go's http.Error); OpenAI routes answer {"error":{"message",...}}; some proxies
 * answer {"message"} or {"error":"..."}. The status keeps its meaning through the error code.
 */
import { AppError, type ErrorCode } from '../../errors.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  422: 'unsupported',
  503: 'unavailable',
  507: 'insufficient_memory',
};

/** The human message inside an error body, whatever its shape; the status text when empty. */
export function serverErrorMessage(status: number, body: string, statusText = ''): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
      const error = parsed.error;
      if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
        return (error as { message: string }).message;
      }
      if (typeof error === 'string') return error;
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // Not JSON after all: the text itself is the best message there is.
    }
  }
  if (text !== '') return text;
  return `the server answered ${status}${statusText ? ` ${statusText}` : ''}`;
}

export function serverError(status: number, body: string, statusText = ''): AppError {
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'upstream' : 'bad_request');
  return new AppError(code, serverErrorMessage(status, body, statusText), { data: { status } });
}

/** The HTTP status an error from this client came with, if any. */
export function statusOf(err: unknown): number | undefined {
  const status = err instanceof AppError ? err.data?.status : undefined;
  return typeof status === 'number' ? status : undefined;
}
