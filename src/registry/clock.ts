/**
 * Where the registry client reads time: token lifetimes, Retry-After dates and the waits between
 * attempts. Injected so that tests drive expiry and backoff themselves instead of waiting.
 *
 * Not the engine's Clock: the registry may not import the engine, and its waits must keep the
 * process alive (a CLI pull waiting to retry has nothing else running), where the engine's
 * keep-alive timers deliberately do not.
 */
import { AppError } from '../errors.js';

export interface RegistryClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with an 'aborted' AppError as soon as the signal fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleeps, waking early with an 'aborted' AppError when the signal fires. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export const systemRegistryClock: RegistryClock = { now: () => Date.now(), sleep };
