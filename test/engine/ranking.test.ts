import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { loadHandle, tinyModel, type TinyModel } from './support.js';

describe('reranking in a model Worker', () => {
  let reranker: TinyModel;
  let chat: TinyModel;
  let handle: WorkerModelHandle;
  before(async () => {
    reranker = await tinyModel({ reranker: true });
    chat = await tinyModel();
    handle = await loadHandle(reranker.path, { mode: 'reranking', contextSize: 512 });
  });
  after(async () => {
    await handle?.dispose();
    await reranker?.cleanup();
    await chat?.cleanup();
  });

  test('the generated reranker scores each document against the query with a probability', async () => {
    const documents = ['the cat sat on the mat', 'stock prices fell sharply', 'a kitten sleeps'];
    const result = await handle.rank({ query: 'where is the cat?', documents });
    assert.equal(result.scores.length, documents.length);
    for (const score of result.scores) assert.ok(score >= 0 && score <= 1 && Number.isFinite(score), String(score));
    // Random weights, yet different pairs must give different scores: a constant would mean the head is not read.
    assert.ok(new Set(result.scores).size > 1, `scores: ${result.scores.join(', ')}`);
    assert.ok(result.promptTokens > 0);
  });

  test('the same pair scores the same twice', async () => {
    const first = await handle.rank({ query: 'q', documents: ['alpha', 'beta'] });
    const second = await handle.rank({ query: 'q', documents: ['alpha', 'beta'] });
    assert.deepEqual(second.scores, first.scores);
  });

  test('a pair longer than the context is refused naming the document, not truncated', async () => {
    await assert.rejects(handle.rank({ query: 'q', documents: ['ok', 'x'.repeat(2000)] }), (err: AppError) => {
      assert.equal(err.code, 'context_exceeded');
      assert.match(err.message, /document 1/);
      return true;
    });
  });

  test('a chat model loaded for reranking is refused as not a reranker', async () => {
    await assert.rejects(loadHandle(chat.path, { mode: 'reranking', contextSize: 512 }), (err: AppError) => {
      assert.match(err.message, /not a reranker/);
      return true;
    });
  });
});
