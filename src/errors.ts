/**
 * Domain errors. They carry a stable `code` but no HTTP status: the HTTP layer owns the one
 * table that maps codes to statuses (src/http/error-status.ts), so that store, registry and
 * engine code stays transport-agnostic.
 */
export type ErrorCode =
  | 'bad_request' // the caller sent something malformed or invalid
  | 'invalid_reference' // a model reference that cannot be parsed
  | 'not_found' // a model, tag, blob or route that does not exist
  | 'conflict' // the request contradicts current state (tag held by several names, runner busy)
  | 'unauthorized' // the registry refused our credentials
  | 'forbidden' // a policy forbids this (CORS origin, denied scope)
  | 'unsupported' // a well-formed artifact or request we cannot handle (config type, parameter)
  | 'too_large' // a body or upload over its limit
  | 'context_exceeded' // a prompt that does not fit in the model's context
  | 'insufficient_memory' // the model cannot fit even when everything else is evicted
  | 'insufficient_storage' // the model store's file system has no room for what is being written
  | 'busy' // a bounded queue is full; retry later
  | 'digest_mismatch' // downloaded or uploaded bytes do not hash to their digest
  | 'upstream' // a registry or peer answered with an error we cannot map more precisely
  | 'unavailable' // a dependency (worker, registry) is not reachable right now
  | 'aborted' // the caller went away or cancelled
  | 'store_locked' // another server holds the store's lock
  | 'internal'; // a bug or an unexpected failure

export interface AppErrorOptions {
  /** The underlying error, kept for logs. Defaults to undefined. */
  cause?: unknown;
  /** Structured details a caller may render (e.g. token counts). Defaults to undefined. */
  data?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.data = options.data;
  }

  /** The plain shape that crosses thread boundaries (Error classes do not survive postMessage). */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, data: this.data };
  }

  static fromJSON(value: SerializedError): AppError {
    return new AppError(value.code, value.message, { data: value.data });
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  data?: Record<string, unknown>;
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(value: unknown, fallback: ErrorCode = 'internal'): AppError {
  if (value instanceof AppError) return value;
  if (isAbortError(value)) return new AppError('aborted', 'The operation was aborted', { cause: value });
  const message = value instanceof Error ? value.message : String(value);
  return new AppError(fallback, message, { cause: value });
}

export function isAbortError(value: unknown): boolean {
  return value instanceof Error && (value.name === 'AbortError' || (value as { code?: string }).code === 'ABORT_ERR');
}
