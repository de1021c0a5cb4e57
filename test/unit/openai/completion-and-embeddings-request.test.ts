import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCompletionRequest } from '../../../src/openai/completion-request.js';
import { parseEmbeddingsRequest } from '../../../src/openai/embeddings-request.js';
import { assertBadParam } from './assert-bad-param.js';

describe('parseCompletionRequest', () => {
  test('a string prompt and an array holding one string both become the prompt', () => {
    assert.deepEqual(parseCompletionRequest({ model: 'm', prompt: 'Once', stop: 'x' }).request, {
      kind: 'completion',
      prompt: 'Once',
      sampling: { stop: ['x'] },
    });
    assert.equal(parseCompletionRequest({ model: 'm', prompt: ['Upon'] }).request.prompt, 'Upon');
  });

  const invalid: Array<[string, unknown, string]> = [
    ['a missing prompt', { model: 'm' }, 'prompt'],
    ['a token-array prompt', { model: 'm', prompt: [1, 2, 3] }, 'prompt'],
    ['a batch of two prompts', { model: 'm', prompt: ['a', 'b'] }, 'prompt'],
    ['a missing model', { prompt: 'x' }, 'model'],
    ['n of 9', { model: 'm', prompt: 'x', n: 9 }, 'n'],
    ['n of 0', { model: 'm', prompt: 'x', n: 0 }, 'n'],
  ];
  for (const [what, body, param] of invalid) {
    test(`${what} is a bad request naming ${param}`, () => {
      assertBadParam(() => parseCompletionRequest(body), param);
    });
  }

  test('a token-array prompt is refused with a message that says token arrays are unsupported', () => {
    assert.throws(() => parseCompletionRequest({ model: 'm', prompt: [[1, 2]] }), /token arrays are not supported/);
  });
});

describe('parseEmbeddingsRequest', () => {
  test('a string input becomes one input and an array of strings stays a list', () => {
    assert.deepEqual(parseEmbeddingsRequest({ model: 'e', input: 'hello' }), { model: 'e', encodingFormat: 'float', request: { inputs: ['hello'] } });
    assert.deepEqual(parseEmbeddingsRequest({ model: 'e', input: ['a', 'b'], encoding_format: 'base64', keep_alive: 30 }), {
      model: 'e',
      encodingFormat: 'base64',
      keepAlive: 30,
      request: { inputs: ['a', 'b'] },
    });
  });

  const invalid: Array<[string, unknown, string]> = [
    ['a missing input', { model: 'e' }, 'input'],
    ['token arrays', { model: 'e', input: [[1, 2]] }, 'input'],
    ['a flat token list', { model: 'e', input: [1, 2] }, 'input'],
    ['an empty list', { model: 'e', input: [] }, 'input'],
    ['an unknown encoding_format', { model: 'e', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ['a missing model', { input: 'x' }, 'model'],
  ];
  for (const [what, body, param] of invalid) {
    test(`${what} is a bad request naming ${param}`, () => {
      assertBadParam(() => parseEmbeddingsRequest(body), param);
    });
  }
});
