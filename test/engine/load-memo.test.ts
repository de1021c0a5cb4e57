/**
 * What a load learns for the next load of the same model (LoadMemo): the chat wrapper type, so
 * that only that type is tested against the template, and the file as it passed validation, so
 * that the same file is not read again. Real Workers on the tiny model, whose template
 * node-llama-cpp matches to a specialized wrapper.
 */
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { LoadMemo } from '../../src/engine/types.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

const ID = 'sha256:tiny';
const chat = {
  kind: 'chat' as const,
  messages: [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Hello there' },
  ],
  sampling: { maxTokens: 6, temperature: 0, ignoreEos: true },
};

describe('what a load learns for the next load of the same model', () => {
  let model: TinyModel;
  before(async () => {
    model = await tinyModel();
  });
  after(() => model?.cleanup());

  async function loadedWith(memos: Map<string, LoadMemo>): Promise<{ handle: WorkerModelHandle; promptTokens: number; text: string }> {
    const handle = await loadHandle(model.path, { loadMemos: memos });
    const events = await collect(handle, chat);
    return { handle, promptTokens: doneOf(events).usage.promptTokens, text: textOf(events) };
  }

  test('a second load checks neither the file nor every wrapper again, and renders and answers exactly as the first', async () => {
    const memos = new Map<string, LoadMemo>();
    const first = await loadedWith(memos);
    const second = await loadedWith(memos).finally(() => first.handle.dispose());
    try {
      assert.deepEqual([first.handle.info?.validation, first.handle.info?.chatWrapperResolvedBy], ['checked', 'search']);
      const type = memos.get(ID)?.chatWrapperType;
      assert.ok(type !== undefined && type !== 'general', `the template matched a specialized wrapper (${type})`);
      assert.deepEqual([second.handle.info?.validation, second.handle.info?.chatWrapperResolvedBy], ['known', 'hint']);
      assert.equal(second.handle.info?.chatWrapper, first.handle.info?.chatWrapper);
      assert.equal(second.promptTokens, first.promptTokens);
      assert.equal(second.text, first.text);
    } finally {
      await second.handle.dispose();
    }
  });

  test('a file changed since it passed is checked again, and a wrapper type that does not hold falls back to the full search', async () => {
    const truth = await loadedWith(new Map());
    const memos = new Map<string, LoadMemo>([[ID, { ...truth.handle.info!.memo!, chatWrapperType: 'llama3' }]]);
    await truth.handle.dispose();
    const later = new Date(Date.now() + 60_000);
    await utimes(model.path, later, later);
    const misled = await loadedWith(memos);
    try {
      assert.equal(misled.handle.info?.validation, 'checked');
      assert.equal(misled.handle.info?.chatWrapperResolvedBy, 'search');
      assert.equal(memos.get(ID)?.chatWrapperType, truth.handle.info?.memo?.chatWrapperType, 'the wrong type was replaced');
      assert.equal(misled.promptTokens, truth.promptTokens);
    } finally {
      await misled.handle.dispose();
    }
  });
});
