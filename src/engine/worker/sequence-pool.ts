/**
 * The context's sequences, lent one per request. A request gets the free sequence whose KV
 * cache shares the longest prefix with its prompt, so a conversation keeps landing on the
 * sequence that already holds its history. Ties go to the lowest sequence id: llama.cpp decodes
 * the sequences of a batch in one pass only when their ids are consecutive (see batch-barrier.ts),
 * so requests are kept packed at the low ids.
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { AppError } from '../../errors.js';
import { sequenceOrder } from './sequence-order.js';

export class SequencePool {
  /** Free sequences, by ascending id. */
  private readonly free: LlamaContextSequence[];
  private readonly waiters: Array<(seq: LlamaContextSequence) => void> = [];

  /** `sequences` as recorded by recordSequenceOrder (sequence-order.ts). */
  constructor(sequences: readonly LlamaContextSequence[]) {
    this.free = [...sequences].sort((a, b) => sequenceOrder(a) - sequenceOrder(b));
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
    if (next) return next(seq);
    const id = sequenceOrder(seq);
    const at = this.free.findIndex((other) => sequenceOrder(other) > id);
    this.free.splice(at < 0 ? this.free.length : at, 0, seq);
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
