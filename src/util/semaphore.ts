import { AppError } from '../errors.js';

/** A counting semaphore whose waiters can be cancelled with an AbortSignal. */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(permits: number) {
    this.available = permits;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Whether acquire() would wait now. */
  get exhausted(): boolean {
    return this.available === 0;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new AppError('aborted', 'cancelled while waiting');
    if (this.available > 0) {
      this.available--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            reject(new AppError('aborted', 'cancelled while waiting'));
          }
        },
        { once: true },
      );
    });
    return this.releaser();
  }

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.available++;
    };
  }
}
