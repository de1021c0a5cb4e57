/**
 * A registry clock whose time moves only when the test (or a wait of the client) moves it:
 * token expiry is reached by advance(), and a wait between attempts is recorded and passes at
 * once, so a test asserts the exact waits a client chose and never spends them.
 */
import { AppError } from '../../src/errors.js';
import type { RegistryClock } from '../../src/registry/index.js';

/** 2030-01-01T00:00:00Z: a whole second, so that HTTP dates (second resolution) compare exactly. */
export const CLOCK_START_MS = Date.UTC(2030, 0, 1);

export class ManualRegistryClock implements RegistryClock {
  time = CLOCK_START_MS;
  /** Every wait the client asked for, in milliseconds, in order. */
  readonly waits: number[] = [];

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AppError('aborted', 'cancelled'));
    this.waits.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}
