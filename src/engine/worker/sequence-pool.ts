/**
 * The context's sequences, lent one per request. A request gets the free sequence whose KV
 * cache shares the longest prefix with its prompt, so a conversation keeps landing on the
 * sequence that already holds its history. Ties go to the lowest sequence id: llama.cpp decodes
 * the sequences of a batch in one pass only when their ids are consecutive (see batch-barrier.ts),
 * so requests are kept packed at the low ids. A prompt that shares little with every sequence (a
 * begin-of-text token, under a tenth of it: llama-server's slot-similarity rule) goes to an empty
 * sequence, else to the least recently used, so that it does not overwrite a cached conversation.
 *
 * When the sequences share one KV cache (unified), the prefixes idle sequences keep for later
 * requests take cells from that one cache; makeRoom gives them up, least recently used first,
 * when a request needs the cells, and takeIdle lends them out to be parked (park-idle.ts).
 */
import type { LlamaContextSequence, Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import { sequenceOrder } from './sequence-order.js';

/** A prompt goes to the sequence sharing the longest prefix with it when that is at least 1/SIMILAR_ENOUGH of it. */
const SIMILAR_ENOUGH = 10;

export class SequencePool {
  /** Free sequences, by ascending id. */
  private free: LlamaContextSequence[];
  private readonly waiters: Array<(seq: LlamaContextSequence) => void> = [];
  private readonly all: readonly LlamaContextSequence[];
  /** When each sequence was last released, for makeRoom's order. */
  private readonly releasedAt = new Map<LlamaContextSequence, number>();
  private releases = 0;

  /** `sequences` as recorded by recordSequenceOrder (sequence-order.ts). */
  constructor(sequences: readonly LlamaContextSequence[]) {
    this.all = [...sequences];
    this.free = [...sequences].sort((a, b) => sequenceOrder(a) - sequenceOrder(b));
  }

  /**
   * Unified KV cache of `totalCells`: makes `needed` cells free by erasing what idle sequences
   * hold, least recently released first, until enough are free or no idle sequence holds any.
   * Sequences in use are never touched; if they alone hold too much, decoding may still find the
   * cache full (an error for that batch, not a crash).
   */
  async makeRoom(needed: number, totalCells: number): Promise<void> {
    let used = this.all.reduce((sum, seq) => sum + seq.nextTokenIndex, 0);
    const idle = this.free.filter((seq) => seq.nextTokenIndex > 0).sort((a, b) => (this.releasedAt.get(a) ?? 0) - (this.releasedAt.get(b) ?? 0));
    for (const seq of idle) {
      if (totalCells - used >= needed) return;
      used -= seq.nextTokenIndex;
      await seq.clearHistory();
    }
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

  /**
   * Lends out every free sequence that holds tokens; each must come back through release() with
   * `used` false. While lent, no request can be given one (its cells are being saved or erased).
   */
  takeIdle(): LlamaContextSequence[] {
    const idle = this.free.filter((seq) => seq.nextTokenIndex > 0);
    this.free = this.free.filter((seq) => seq.nextTokenIndex === 0);
    return idle;
  }

  /** Gives `seq` back; `used` false (a sequence lent by takeIdle) leaves its place in makeRoom's order as it was. */
  release(seq: LlamaContextSequence, used = true): void {
    if (used) this.releasedAt.set(seq, ++this.releases);
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
    if (bestShared * SIMILAR_ENOUGH < tokens.length) best = this.leastValuable();
    return this.free.splice(best, 1)[0]!;
  }

  /** The first empty free sequence, else the one released longest ago. */
  private leastValuable(): number {
    const empty = this.free.findIndex((seq) => seq.nextTokenIndex === 0);
    if (empty >= 0) return empty;
    let oldest = 0;
    this.free.forEach((seq, i) => {
      if ((this.releasedAt.get(seq) ?? 0) < (this.releasedAt.get(this.free[oldest]!) ?? 0)) oldest = i;
    });
    return oldest;
  }
}
