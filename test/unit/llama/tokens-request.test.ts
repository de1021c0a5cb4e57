import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { buildTokensResponse, parseApplyTemplateRequest, parseDetokenizeRequest, parseTokenizeRequest } from '../../../src/llama/tokens-request.js';

describe('llama-server tokenize and detokenize translation', () => {
  test('a tokenize body becomes an engine request with add_special and with_pieces off by default', () => {
    assert.deepEqual(parseTokenizeRequest({ model: ' ai/demo ', content: 'hi' }), {
      model: 'ai/demo',
      request: { op: 'tokenize', text: 'hi', addSpecial: false, withPieces: false },
    });
    assert.deepEqual(parseTokenizeRequest({ content: 'hi', add_special: true, with_pieces: true }).request, { op: 'tokenize', text: 'hi', addSpecial: true, withPieces: true });
  });

  test('a tokenize body without content is refused, naming content', () => {
    assert.throws(() => parseTokenizeRequest({ model: 'ai/demo' }), (err: unknown) => err instanceof AppError && err.code === 'bad_request' && err.data?.param === 'content');
  });

  test('a detokenize body needs non-negative integer tokens', () => {
    assert.deepEqual(parseDetokenizeRequest({ tokens: [1, 2] }).request, { op: 'detokenize', tokens: [1, 2] });
    for (const tokens of [[1.5], [-1], 'abc', undefined]) {
      assert.throws(() => parseDetokenizeRequest({ tokens }), (err: unknown) => err instanceof AppError && err.code === 'bad_request' && String(err.data?.param).startsWith('tokens'));
    }
  });

  test('an apply-template body reads its messages as the chat route does, and needs at least one', () => {
    assert.deepEqual(parseApplyTemplateRequest({ model: 'ai/demo', messages: [{ role: 'user', content: 'hi' }] }), {
      model: 'ai/demo',
      request: { op: 'apply-template', messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.throws(() => parseApplyTemplateRequest({ messages: [] }), (err: unknown) => err instanceof AppError && err.code === 'bad_request' && err.data?.param === 'messages');
    assert.throws(() => parseApplyTemplateRequest({ model: 5, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => err instanceof AppError && err.data?.param === 'model');
  });

  test('the response is token IDs, ID and piece pairs, or content', () => {
    assert.deepEqual(buildTokensResponse({ tokens: [5, 6] }), { tokens: [5, 6] });
    assert.deepEqual(buildTokensResponse({ tokens: [5, 6], pieces: ['a', 'b'] }), { tokens: [{ id: 5, piece: 'a' }, { id: 6, piece: 'b' }] });
    assert.deepEqual(buildTokensResponse({ content: 'ab' }), { content: 'ab' });
    assert.deepEqual(buildTokensResponse({ prompt: 'p' }), { prompt: 'p' });
  });
});
