/**
 * Exponential backoff around one attempt of a registry operation. An attempt decides itself
 * what "again" means (a blob resumes from the bytes it has), so this only counts and waits.
 */
import { AppError } from '../errors.js';
import { isRetryable } from './http.js';

export interface RetryPolicy {
  /** Attempts after the first one. Defaults to DEFAULT_RETRIES (5). */
  retries?: number;
  /** Wait before the first retry; each later one doubles it. Defaults to DEFAULT_RETRY_DELAY_MS (500). */
  baseDelayMs?: number;
  /** Longest wait between attempts (a server's Retry-After may be longer, up to MAX_RETRY_AFTER_MS). Defaults to 8000. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 8_000;

/** Sleeps, waking early with an 'aborted' AppError when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AppError('aborted', 'cancelled'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AppError('aborted', 'cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The last error of a retried operation, saying that retrying did not help. */
function gaveUp(error: AppError, retries: number): AppError {
  const { retryable: _, retryAfterMs: __, ...data } = error.data ?? {};
  return new AppError(error.code, `${error.message} (gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'})`, { cause: error, data });
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
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted) throw new AppError('aborted', 'cancelled', { cause: err });
      if (!isRetryable(err)) throw err;
      if (n >= retries) throw n === 0 ? err : gaveUp(err as AppError, n);
      const error = err as AppError;
      const backoff = Math.min(max, base * 2 ** n) * (0.75 + Math.random() * 0.5);
      const after = typeof error.data?.retryAfterMs === 'number' ? error.data.retryAfterMs : 0;
      const delay = Math.max(backoff, after);
      onRetry?.(error, n + 1, delay);
      await sleep(delay, signal);
    }
  }
}
