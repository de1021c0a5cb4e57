/**
 * How node-llama-cpp groups the token loops of one context into decode batches. It runs
 * runTokenLoop directly on a real context (tiny generated model, main thread) and records the
 * items of every batch through a prioritization strategy, which sees each batch before it is
 * decoded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getLlama, LlamaLogLevel, type BatchItem, type EvaluationPriority, type Llama, type LlamaContext, type LlamaModel, type PrioritizedBatchItem } from '#node-llama-cpp';
import { BatchBarrier } from '../../src/engine/worker/batch-barrier.js';
import { recordSequenceOrder } from '../../src/engine/worker/sequence-order.js';
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
  /** The evaluation priority of each item of each batch: the tests give sequence id + 1. */
  const batchOrders: number[][] = [];

  /** Takes every queued token, as long as the batch has room; records how many items it holds. */
  const recordAll = ({ items, size }: { items: readonly BatchItem[]; size: number }): PrioritizedBatchItem[] => {
    let left = size;
    const chosen = items.map((item) => {
      const processAmount = Math.min(item.tokens.length, left);
      left -= processAmount;
      return { item, processAmount };
    });
    const taken = chosen.filter((c) => c.processAmount > 0);
    batches.push(taken.length);
    batchOrders.push(taken.map((c) => c.item.evaluationPriority));
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

  /**
   * Runs STREAMS loops to TOKENS tokens each on fresh sequences, started out of id order (so that
   * only the barrier's ordering puts the batches in id order); `scoreTops[id]` asks stream `id` for
   * token scores. Asserts every stream ran to its length and hands back the batches recorded.
   */
  async function runStreams(scoreTops: Array<number | undefined>): Promise<{ sizes: number[]; orders: number[][]; scored: number[] }> {
    batches.length = 0;
    batchOrders.length = 0;
    const barrier = new BatchBarrier();
    const signal = new AbortController().signal;
    const sequences = Array.from({ length: STREAMS }, () => context.getSequence());
    recordSequenceOrder(sequences);
    const startOrder = [2, 0, 3, 1];
    const scored = Array.from({ length: STREAMS }, () => 0);
    try {
      const results = await Promise.all(
        startOrder.map((id) =>
          runTokenLoop({
            seq: sequences[id]!,
            barrier,
            input: model.tokenize(`stream ${id} says`),
            // EOG must not end a stream early; the priority only labels the batch items with the id.
            evaluate: { temperature: 0, yieldEogToken: true, evaluationPriority: (id + 1) as EvaluationPriority },
            maxTokens: TOKENS,
            signal,
            ...(scoreTops[id] === undefined ? {} : { scoreTop: scoreTops[id] }),
            onToken: (_token, score) => {
              if (score) scored[id]!++;
              return false;
            },
          }),
        ),
      );
      assert.deepEqual(results.map((r) => [r.end, r.sampled]), startOrder.map(() => ['length', TOKENS]));
      assert.equal(barrier.size, 0);
    } finally {
      for (const seq of sequences) seq.dispose();
    }
    return { sizes: [...batches], orders: batchOrders.map((o) => [...o]), scored };
  }

  /** Streams start one batch apart at most, so all but the first few batches hold every stream, in id order. */
  function assertBatched({ sizes, orders }: { sizes: number[]; orders: number[][] }): void {
    const full = sizes.filter((n) => n === STREAMS).length;
    assert.ok(full >= TOKENS - 3, `batch sizes: ${sizes.join(',')}`);
    // llama.cpp decodes a batch in one pass only when its sequence ids ascend one by one. The
    // first full batch holds the joiners' prompts, which reach the queue by a longer path.
    const fullOrders = orders.filter((o) => o.length === STREAMS).slice(1).map((o) => o.join(','));
    assert.deepEqual([...new Set(fullOrders)], ['1,2,3,4']);
  }

  test('concurrent streams with a shared barrier decode one token of every stream per batch, in sequence id order', async () => {
    assertBatched(await runStreams([undefined, undefined, undefined, undefined]));
  });

  test('streams that ask for token scores (log-probabilities) batch with the others just the same', async () => {
    const run = await runStreams([5, undefined, 0, undefined]);
    assertBatched(run);
    assert.deepEqual(run.scored, [TOKENS, 0, TOKENS, 0]);
  });
});
