/**
 * Exponential backoff around one attempt of a registry operation. An attempt decides itself
 * what "again" means (a blob resumes from the bytes it has), so this only counts and waits.
 * A server's Retry-After (seconds or an HTTP date, carried by the error as `data.retryAfter`)
 * lengthens a wait up to `maxRetryAfterMs`; one asking for longer ends the operation with an
 * error that names it, since a caller (a CLI pull, an API request) should not hang for it.
 */
import { AppError } from '../errors.js';
import { type RegistryClock, systemRegistryClock } from './clock.js';
import { isRetryable } from './http.js';

export interface RetryPolicy {
  /** Attempts after the first one. Defaults to DEFAULT_RETRIES (5). */
  retries?: number;
  /** Wait before the first retry; each later one doubles it. Defaults to DEFAULT_RETRY_DELAY_MS (500). */
  baseDelayMs?: number;
  /** Longest backoff between attempts (a server's Retry-After may ask for more, up to `maxRetryAfterMs`). Defaults to 8000. */
  maxDelayMs?: number;
  /** Longest Retry-After honoured; a server asking for more fails the operation. Defaults to MAX_RETRY_AFTER_MS (60 s). */
  maxRetryAfterMs?: number;
  /** Reads the time (for Retry-After dates) and sleeps between attempts. Defaults to the system clock. */
  clock?: RegistryClock;
}

export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 8_000;
/** Beyond this a Retry-After is not waited for: the operation fails with an error naming it. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After as milliseconds from `now` (delay-seconds or an HTTP date), or undefined when it is neither. */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also reads things that are no HTTP date ("1.5"); every HTTP date form names a day or month and a time.
  if (!/[A-Za-z]{3}/.test(text) || !/\d{1,2}:\d{2}:\d{2}/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The last error of a retried operation, saying that retrying did not help. */
function gaveUp(error: AppError, retries: number): AppError {
  const { retryable: _, retryAfter: __, ...data } = error.data ?? {};
  return new AppError(error.code, `${error.message} (gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'})`, { cause: error, data });
}

/** A Retry-After longer than this client waits: the error to end with, naming what the server asked. */
function tooLongToWait(error: AppError, header: string, ms: number, cap: number): AppError {
  const { retryable: _, retryAfter: __, ...data } = error.data ?? {};
  const message = `${error.message}; the server asked to retry after ${Math.ceil(ms / 1000)} s (Retry-After: ${header}), longer than the ${Math.round(cap / 1000)} s this client waits`;
  return new AppError(error.code, message, { cause: error, data });
}

/**
 * Runs `attempt(n)` until it succeeds, throws something not retryable, or the retries are
 * spent. `onRetry` hears each failure that will be retried (for a log line).
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  signal?: AbortSignal,
  onRetry?: (error: AppError, n: number, delayMs: number) => void,
): Promise<T> {
  const retries = policy.retries ?? DEFAULT_RETRIES;
  const base = policy.baseDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const max = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const cap = policy.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
  const clock = policy.clock ?? systemRegistryClock;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted) throw new AppError('aborted', 'cancelled', { cause: err });
      if (!isRetryable(err)) throw err;
      const error = err as AppError;
      const header = error.data?.retryAfter;
      const after = parseRetryAfter(header, clock.now());
      // Judged before the retry count: the server's answer is about this failure, whatever comes next.
      if (after !== undefined && after > cap) throw tooLongToWait(error, String(header), after, cap);
      if (n >= retries) throw n === 0 ? err : gaveUp(error, n);
      const backoff = Math.min(max, base * 2 ** n) * (0.75 + Math.random() * 0.5);
      const delay = Math.max(backoff, after ?? 0);
      onRetry?.(error, n + 1, delay);
      await clock.sleep(delay, signal);
    }
  }
}
