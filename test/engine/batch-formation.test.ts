/**
 * How node-llama-cpp groups the token loops of one context into decode batches. It runs
 * runTokenLoop directly on a real context (tiny generated model, main thread) and records the
 * items of every batch through a prioritization strategy, which sees each batch before it is
 * decoded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getLlama, LlamaLogLevel, type BatchItem, type Llama, type LlamaContext, type LlamaModel, type PrioritizedBatchItem } from 'node-llama-cpp';
import { BatchBarrier } from '../../src/engine/worker/batch-barrier.js';
import { runTokenLoop } from '../../src/engine/worker/token-loop.js';
import { tinyModel, type TinyModel } from './support.js';

const STREAMS = 4;
const TOKENS = 64;

describe('batch formation on one context', () => {
  let tiny: TinyModel;
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;
  /** Number of items in each batch, in order. */
  const batches: number[] = [];

  /** Takes every queued token, as long as the batch has room; records how many items it holds. */
  const recordAll = ({ items, size }: { items: readonly BatchItem[]; size: number }): PrioritizedBatchItem[] => {
    let left = size;
    const chosen = items.map((item) => {
      const processAmount = Math.min(item.tokens.length, left);
      left -= processAmount;
      return { item, processAmount };
    });
    batches.push(chosen.filter((c) => c.processAmount > 0).length);
    return chosen;
  };

  before(async () => {
    tiny = await tinyModel();
    llama = await getLlama({ gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error, build: 'never' });
    model = await llama.loadModel({ modelPath: tiny.path });
    context = await model.createContext({ contextSize: 512, sequences: STREAMS, threads: 1, batching: { itemPrioritizationStrategy: recordAll } });
  });
  after(async () => {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    await tiny?.cleanup();
  });

  test('concurrent streams with a shared barrier decode one token of every stream per batch', async () => {
    const barrier = new BatchBarrier();
    const signal = new AbortController().signal;
    const sequences = Array.from({ length: STREAMS }, () => context.getSequence());
    const results = await Promise.all(
      sequences.map((seq, i) =>
        runTokenLoop({
          seq,
          barrier,
          input: model.tokenize(`stream ${i} says`),
          evaluate: { temperature: 0, yieldEogToken: true }, // EOG must not end a stream early
          maxTokens: TOKENS,
          signal,
          onToken: () => false,
        }),
      ),
    );
    assert.deepEqual(results.map((r) => [r.end, r.sampled]), sequences.map(() => ['length', TOKENS]));
    // Streams start one batch apart at most (a joiner waits for the next tokens of the running
    // ones), so all but the first few batches must hold every stream.
    const full = batches.filter((n) => n === STREAMS).length;
    assert.ok(full >= TOKENS - 3, `batch sizes: ${batches.join(',')}`);
    assert.equal(barrier.size, 0);
  });
});
