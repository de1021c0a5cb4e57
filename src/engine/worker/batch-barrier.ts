/**
 * Lines up the token loops that share one LlamaContext so that continuous batching works.
 *
 * node-llama-cpp decodes in a loop that holds the context lock while its queue is non-empty: after
 * each batch it hands the sampled tokens out and, a few microtasks later, looks at the queue again.
 * Left alone, a sequence whose sample finished early queues its next token before that check and
 * one whose sample finished late misses it, so 4 streams decode in batches of 3 plus stragglers,
 * and the queue is never empty, so the lock is never released: a new request that must erase
 * stale KV cells (eraseContextTokenRanges takes that lock) waits until every stream has ended.
 *
 * The barrier holds each generating sequence after its token until every participant has one,
 * then releases them all in one later macrotask. By then the decode loop has found its queue empty
 * and released the lock (so erasures and new prompts get in between batches), and all
 * participants queue together, so the next batch holds one token from each of them.
 *
 * The release also puts them in order. llama.cpp keeps a separate KV cache per sequence (no
 * unified cache), and then splits a batch into one forward pass per run of consecutive, ascending
 * sequence ids in batch order: tokens of sequences 1, 0, 3, 2 cost three passes over the weights
 * where 0, 1, 2, 3 cost one. node-llama-cpp adds tokens to the batch in the order they were
 * queued, and the loops queue in the order they are resumed, so participants are resumed by
 * ascending sequence id.
 */
import type { Clock } from '../clock.js';

/** How long arrived sequences wait for one that has not arrived: a slow one must not stall the rest. */
export const STRAGGLER_TIMEOUT_MS = 20;

const systemTimers: Pick<Clock, 'setTimeout' | 'clearTimeout'> = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a token loop needs of its barrier (a test fault may stand between the two). */
export type TokenBarrier = Pick<BatchBarrier, 'join' | 'arrive' | 'leave'>;

export class BatchBarrier {
  /** Sequences inside a token loop on this context. */
  private participants = 0;
  private waiting: Array<{ order: number; resume: () => void }> = [];
  private straggler: unknown;

  /**
   * @param stragglerTimeoutMs How long arrived participants wait for the rest. Defaults to STRAGGLER_TIMEOUT_MS.
   * @param timers Where the straggler timer runs; tests pass a clock they move. Defaults to the system's.
   */
  constructor(
    private readonly stragglerTimeoutMs = STRAGGLER_TIMEOUT_MS,
    private readonly timers: Pick<Clock, 'setTimeout' | 'clearTimeout'> = systemTimers,
  ) {}

  /**
   * Enters a new participant. It resolves with the next release, so the new prompt is queued
   * together with the next tokens of those already generating and shares their batch.
   * `order` is the participant's sequence id: a release resumes participants by ascending order.
   */
  join(order: number): Promise<void> {
    this.participants++;
    return this.wait(order, false);
  }

  /** After a token: resolves once every participant has arrived, or after the straggler timeout. */
  arrive(order: number): Promise<void> {
    return this.wait(order, true);
  }

  /** Leaves for good (the loop ended); those waiting for it no longer do. */
  leave(): void {
    this.participants--;
    this.releaseIfComplete();
  }

  /** Participants now inside a token loop (for tests and diagnostics). */
  get size(): number {
    return this.participants;
  }

  private wait(order: number, afterToken: boolean): Promise<void> {
    return new Promise((resume) => {
      this.waiting.push({ order, resume });
      if (this.releaseIfComplete()) return;
      // Only a token starts the clock: a joiner waits for a batch in flight, which is not a stall.
      // The last to arrive starts none (a lone stream arrives last after every token, and a timer
      // set and cleared per token is work on the path between two decodes).
      if (afterToken && this.straggler === undefined) this.straggler = this.timers.setTimeout(() => this.release(), this.stragglerTimeoutMs);
    });
  }

  /** Releases everyone when no participant is missing; says whether it did. */
  private releaseIfComplete(): boolean {
    if (this.waiting.length === 0 || this.waiting.length < this.participants) return false;
    this.release();
    return true;
  }

  private release(): void {
    if (this.straggler !== undefined) this.timers.clearTimeout(this.straggler);
    this.straggler = undefined;
    const released = this.waiting.sort((a, b) => a.order - b.order);
    this.waiting = [];
    // A macrotask, not a microtask: the decode loop's queue check runs in the microtasks after the
    // last sample, and must find the queue empty so that it ends and releases the context lock.
    setImmediate(() => {
      for (const { resume } of released) resume();
    });
  }
}
