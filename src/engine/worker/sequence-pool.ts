/**
 * The context's sequences, lent one per request. A request gets the free sequence whose KV
 * cache shares the longest prefix with its prompt, so a conversation keeps landing on the
 * sequence that already holds its history.
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { AppError } from '../../errors.js';

export class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiters: Array<(seq: LlamaContextSequence) => void> = [];

  constructor(sequences: readonly LlamaContextSequence[]) {
    this.free = [...sequences];
  }

  /** Waits when all are lent (the scheduler normally prevents this); the signal ends the wait. */
  async acquire(tokens: readonly Token[], signal: AbortSignal): Promise<LlamaContextSequence> {
    if (this.free.length > 0) return this.takeBest(tokens);
    return new Promise((resolve, reject) => {
      const waiter = (seq: LlamaContextSequence) => {
        signal.removeEventListener('abort', onAbort);
        resolve(seq);
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AppError('aborted', 'cancelled while waiting for a free sequence'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(seq: LlamaContextSequence): void {
    const next = this.waiters.shift();
    if (next) next(seq);
    else this.free.push(seq);
  }

  private takeBest(tokens: readonly Token[]): LlamaContextSequence {
    let best = 0;
    let bestShared = -1;
    this.free.forEach((seq, i) => {
      const shared = seq.compareContextTokens(tokens as Token[]).firstDifferentIndex;
      if (shared > bestShared) {
        best = i;
        bestShared = shared;
      }
    });
    return this.free.splice(best, 1)[0]!;
  }
}
