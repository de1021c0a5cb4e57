/**
 * The innermost loop: evaluate input tokens, then sample one token at a time with
 * seq.evaluateWithMetadata(), handing each to the caller as soon as it exists. It never lets the
 * sequence run past its context (no context shift): it stops with 'length' instead. Every loop on a
 * context passes through that context's BatchBarrier between tokens, so that the loops share
 * decode batches and leave room between batches for other requests. A loop asked for scores
 * hands each token out with its probability and the most likely alternatives (token-scores.ts).
 */
import type { LlamaContextSequence, SequenceEvaluateOptions, Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { TokenBarrier } from './batch-barrier.js';
import { sequenceOrder } from './sequence-order.js';
import { scoreMetadata, scoreOf, type TokenScore } from './token-scores.js';

export type LoopEnd = 'eog' | 'length' | 'abort' | 'stopped';

export interface LoopOptions {
  seq: LlamaContextSequence;
  /** Shared by every loop on the sequence's context, so that their tokens are decoded in one batch. */
  barrier: TokenBarrier;
  /** Tokens to evaluate before the first sample; at least one. */
  input: Token[];
  evaluate: SequenceEvaluateOptions;
  /** Most tokens to sample in this loop. */
  maxTokens: number;
  signal: AbortSignal;
  /**
   * Alternatives to report with every sampled token's probability (0 for its probability only).
   * Defaults to unset: no scores, and none of their cost.
   */
  scoreTop?: number;
  /** Called with every sampled token (and its score when `scoreTop` is set); return true to stop after it. */
  onToken: (token: Token, score?: TokenScore) => boolean;
}

export interface LoopResult {
  end: LoopEnd;
  sampled: number;
  /** performance.now() when the first token was sampled. */
  firstTokenAt?: number;
  /**
   * The last sampled token when the loop stopped right after it: it was handed out but not
   * evaluated, so a follow-up loop must start with it.
   */
  unevaluated?: Token;
}

/** evaluateWithMetadata's output: which fields are there depends on the metadata asked for. */
type ScoredOutput = { probabilities?: ReadonlyMap<Token, number>; confidence?: number };

/** Thrown by the context-shift hook: the loop checks space itself, so a shift means a bug. */
const noContextShift = {
  strategy: () => {
    throw new AppError('internal', 'the sequence ran out of context; generation never shifts the context');
  },
};

export async function runTokenLoop(options: LoopOptions): Promise<LoopResult> {
  const { barrier, signal } = options;
  if (signal.aborted) return { end: 'abort', sampled: 0 };
  await barrier.join(sequenceOrder(options.seq));
  try {
    return await loop(options);
  } finally {
    barrier.leave();
  }
}

async function loop(options: LoopOptions): Promise<LoopResult> {
  const { seq, signal, barrier } = options;
  if (signal.aborted) return { end: 'abort', sampled: 0 };
  const order = sequenceOrder(seq);
  let sampled = 0;
  let firstTokenAt: number | undefined;
  const { scoreTop } = options;
  const metadata = scoreTop === undefined ? {} : scoreMetadata(scoreTop);
  const iterator = seq.evaluateWithMetadata(options.input, metadata, { ...options.evaluate, contextShift: noContextShift });
  try {
    for await (const output of iterator) {
      const token = output.token;
      sampled++;
      firstTokenAt ??= performance.now();
      const stop = options.onToken(token, scoreTop === undefined ? undefined : scoreOf(token, output as ScoredOutput, scoreTop));
      if (stop) return { end: 'stopped', sampled, firstTokenAt, unevaluated: token };
      if (signal.aborted) return { end: 'abort', sampled, firstTokenAt, unevaluated: token };
      // The next iteration evaluates this token into cell nextTokenIndex.
      if (sampled >= options.maxTokens || seq.nextTokenIndex >= seq.contextSize) {
        return { end: 'length', sampled, firstTokenAt, unevaluated: token };
      }
      // Queue the next decode together with the other sequences' (see batch-barrier.ts).
      await barrier.arrive(order);
      // A cancel may have come while waiting: don't spend a decode on it.
      if (signal.aborted) return { end: 'abort', sampled, firstTokenAt, unevaluated: token };
    }
  } finally {
    await iterator.return(undefined);
  }
  return { end: signal.aborted ? 'abort' : 'eog', sampled, firstTokenAt };
}
