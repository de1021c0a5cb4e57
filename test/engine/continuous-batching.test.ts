/**
 * Continuous batching in a real Worker: sequences of one context share batches, so a request
 * that arrives while others generate is evaluated between their tokens, not after them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { GenerateEvent, GenerateRequest } from '../../src/engine/types.js';
import { collect, loadHandle, tinyModel, type TinyModel } from './support.js';

const PARALLEL = 4;
/** Long enough that the earlier streams are far from done when the late one starts. */
const LONG_TOKENS = 1500;

function chat(content: string, maxTokens: number): GenerateRequest {
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

  test('a late request gets its first token before earlier long generations finish', async () => {
    // Fill every sequence first: a request that lands on a sequence holding another prompt must
    // erase those cells, which is what used to wait for every running generation to end.
    await Promise.all(Array.from({ length: PARALLEL }, (_, i) => collect(handle, chat(`warm up ${i}`, 4))));

    const timeline: string[] = [];
    let started = 0;
    let allStarted!: () => void;
    const longStarted = new Promise<void>((resolve) => (allStarted = resolve));
    const long = async (name: string) => {
      let first = true;
      for await (const event of handle.generate(chat(`long story ${name}`, LONG_TOKENS))) {
        if (first) {
          first = false;
          if (++started === PARALLEL - 1) allStarted();
        }
        if (event.type === 'done') timeline.push(`${name} done (${event.usage.completionTokens})`);
      }
    };
    const running = ['a', 'b', 'c'].map(long);
    await longStarted;

    const lateEvents: GenerateEvent[] = [];
    const late = (async () => {
      for await (const event of handle.generate(chat('a late question', 8))) {
        if (lateEvents.length === 0) timeline.push('late first token');
        lateEvents.push(event);
      }
    })();
    await Promise.all([...running, late]);

    assert.equal(timeline.length, 4);
    assert.equal(timeline[0], 'late first token', `order of events: ${timeline.join(', ')}`);
    assert.ok(timeline.slice(1).every((entry) => entry.endsWith(`(${LONG_TOKENS})`)), timeline.join(', '));
    assert.equal(lateEvents.at(-1)?.type, 'done');
  });
});
