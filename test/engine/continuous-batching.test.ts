/**
 * Continuous batching in a real Worker: sequences of one context share batches, so a request
 * that arrives while others generate is evaluated between their tokens, not after them. The
 * earlier generations are unbounded and stopped by the test, so the order of events, not the
 * machine's speed, decides the outcome.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { GenerateEvent, GenerateRequest } from '../../src/engine/types.js';
import { collect, loadHandle, tinyModel, type TinyModel } from './support.js';

const PARALLEL = 4;

function chat(content: string, maxTokens?: number): GenerateRequest {
  return { kind: 'chat', messages: [{ role: 'user', content }], sampling: { maxTokens, temperature: 0, ignoreEos: true } };
}

describe('continuous batching in a model Worker', () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;
  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path, { parallel: PARALLEL });
  });
  after(async () => {
    await handle?.dispose();
    await model?.cleanup();
  });

  test('a late request is answered while earlier generations keep running, not after them', async () => {
    // Fill every sequence first: a request that lands on a sequence holding another prompt must
    // erase those cells, which is what used to wait for every running generation to end.
    await Promise.all(Array.from({ length: PARALLEL }, (_, i) => collect(handle, chat(`warm up ${i}`, 4))));

    // Unbounded: these end only by filling their context (thousands of tokens) or by the abort below.
    const stop = new AbortController();
    const ends: string[] = [];
    let started = 0;
    let allStarted!: () => void;
    const longStarted = new Promise<void>((resolve) => (allStarted = resolve));
    const long = async (name: string) => {
      let first = true;
      for await (const event of handle.generate(chat(`long story ${name}`), stop.signal)) {
        if (first) {
          first = false;
          if (++started === PARALLEL - 1) allStarted();
        }
        if (event.type === 'done') ends.push(`${name}: ${event.finishReason}`);
      }
    };
    const running = ['a', 'b', 'c'].map(long);
    await longStarted;

    const lateEvents: GenerateEvent[] = await collect(handle, chat('a late question', 8));
    // Events of one Worker arrive in the order it sent them: none of the long ones had ended by itself.
    const endedBeforeLate = [...ends];
    stop.abort();
    await Promise.all(running);

    assert.deepEqual(endedBeforeLate, []);
    assert.equal(lateEvents.at(-1)?.type, 'done');
    assert.equal((lateEvents.at(-1) as Extract<GenerateEvent, { type: 'done' }>).usage.completionTokens, 8);
    assert.deepEqual(ends.sort(), ['a: abort', 'b: abort', 'c: abort']);
  });
});
