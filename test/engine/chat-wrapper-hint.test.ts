/**
 * The chat wrapper hint (worker/chat-wrapper.ts): a model's later loads test only the wrapper type
 * an earlier load found, and get the very same wrapper; a hint that does not hold falls back to
 * the full search. Real Workers on the tiny model, whose template node-llama-cpp matches to a
 * specialized wrapper.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

const chat = {
  kind: 'chat' as const,
  messages: [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Hello there' },
  ],
  sampling: { maxTokens: 6, temperature: 0, ignoreEos: true },
};

describe('the chat wrapper hint', () => {
  let model: TinyModel;
  before(async () => {
    model = await tinyModel();
  });
  after(() => model?.cleanup());

  async function loadedWith(hints: Map<string, string>): Promise<{ handle: WorkerModelHandle; promptTokens: number; text: string }> {
    const handle = await loadHandle(model.path, { chatWrapperHints: hints });
    const events = await collect(handle, chat);
    return { handle, promptTokens: doneOf(events).usage.promptTokens, text: textOf(events) };
  }

  test('a second load tests only the type the first found, and renders and answers exactly as the first', async () => {
    const hints = new Map<string, string>();
    const first = await loadedWith(hints);
    const second = await loadedWith(hints).finally(() => first.handle.dispose());
    try {
      assert.equal(first.handle.info?.chatWrapperResolvedBy, 'search');
      const type = first.handle.info?.chatWrapperType;
      assert.ok(type !== undefined && type !== 'general', `the template matched a specialized wrapper (${type})`);
      assert.equal(hints.get('sha256:tiny'), type, 'the load recorded what it found');
      assert.equal(second.handle.info?.chatWrapperResolvedBy, 'hint');
      assert.equal(second.handle.info?.chatWrapper, first.handle.info?.chatWrapper);
      assert.equal(second.promptTokens, first.promptTokens);
      assert.equal(second.text, first.text);
    } finally {
      await second.handle.dispose();
    }
  });

  test('a hint naming another type does not hold, and the full search finds the right wrapper', async () => {
    const truth = await loadedWith(new Map());
    const hints = new Map([['sha256:tiny', 'llama3']]);
    const misled = await loadedWith(hints).finally(() => truth.handle.dispose());
    try {
      assert.equal(misled.handle.info?.chatWrapperResolvedBy, 'search');
      assert.equal(misled.handle.info?.chatWrapperType, truth.handle.info?.chatWrapperType);
      assert.equal(hints.get('sha256:tiny'), truth.handle.info?.chatWrapperType, 'the wrong hint was replaced');
      assert.equal(misled.promptTokens, truth.promptTokens);
    } finally {
      await misled.handle.dispose();
    }
  });
});
