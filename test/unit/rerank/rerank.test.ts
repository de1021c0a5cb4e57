import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { buildRerankResponse } from '../../../src/rerank/rerank-response.js';
import { parseRerankRequest } from '../../../src/rerank/rerank-request.js';
import { buildScoreResponse, parseScoreRequest } from '../../../src/rerank/score.js';

function rejects(run: () => unknown, message: RegExp, param?: string): void {
  assert.throws(run, (err: AppError) => {
    assert.equal(err.code, 'bad_request');
    assert.match(err.message, message);
    if (param !== undefined) assert.equal(err.data?.param, param);
    return true;
  });
}

describe('rerank request translation', () => {
  test('string and {text} documents both become plain texts, in order', () => {
    const parsed = parseRerankRequest({ model: ' ai/r ', query: 'q', documents: ['a', { text: 'b' }] });
    assert.deepEqual(parsed, { model: 'ai/r', request: { query: 'q', documents: ['a', 'b'] }, topN: undefined, returnDocuments: false });
  });

  test('top_n and return_documents are read when sent', () => {
    const parsed = parseRerankRequest({ model: 'm', query: 'q', documents: ['a'], top_n: 3, return_documents: true });
    assert.equal(parsed.topN, 3);
    assert.equal(parsed.returnDocuments, true);
  });

  test('missing, empty and mistyped fields are refused naming the field', () => {
    rejects(() => parseRerankRequest({ query: 'q', documents: ['a'] }), /model is required/, 'model');
    rejects(() => parseRerankRequest({ model: 'm', documents: ['a'] }), /query is required/, 'query');
    rejects(() => parseRerankRequest({ model: 'm', query: 3, documents: ['a'] }), /query must be a string/, 'query');
    rejects(() => parseRerankRequest({ model: 'm', query: 'q' }), /documents is required/, 'documents');
    rejects(() => parseRerankRequest({ model: 'm', query: 'q', documents: [] }), /documents must not be empty/, 'documents');
    rejects(() => parseRerankRequest({ model: 'm', query: 'q', documents: [{ txt: 'a' }] }), /documents\.0: each document must be a string or a \{text\} object/, 'documents.0');
    rejects(() => parseRerankRequest({ model: 'm', query: 'q', documents: ['a'], top_n: 0 }), /top_n must be at least 1/, 'top_n');
    rejects(() => parseRerankRequest({ model: 'm', query: 'q', documents: ['a'], top_n: 1.5 }), /top_n must be an integer/, 'top_n');
    rejects(() => parseRerankRequest(['not', 'an', 'object']), /JSON object/);
  });
});

describe('rerank response translation', () => {
  const result = { scores: [0.2, 0.9, 0.5, 0.9], promptTokens: 40 };

  test('results are sorted by score, best first, ties in request order, with their request indexes', () => {
    const response = buildRerankResponse({ id: 'rerank-1', model: 'm', documents: ['a', 'b', 'c', 'd'], result });
    assert.deepEqual(response.results, [
      { index: 1, relevance_score: 0.9 },
      { index: 3, relevance_score: 0.9 },
      { index: 2, relevance_score: 0.5 },
      { index: 0, relevance_score: 0.2 },
    ]);
    assert.deepEqual(response.usage, { prompt_tokens: 40, total_tokens: 40 });
    assert.equal(response.model, 'm');
  });

  test('top_n cuts after sorting and return_documents echoes each kept document', () => {
    const response = buildRerankResponse({ id: 'x', model: 'm', documents: ['a', 'b', 'c', 'd'], result, topN: 2, returnDocuments: true });
    assert.deepEqual(response.results, [
      { index: 1, relevance_score: 0.9, document: { text: 'b' } },
      { index: 3, relevance_score: 0.9, document: { text: 'd' } },
    ]);
  });

  test('a top_n larger than the documents keeps them all', () => {
    assert.equal(buildRerankResponse({ id: 'x', model: 'm', documents: ['a', 'b', 'c', 'd'], result, topN: 10 }).results.length, 4);
  });
});

describe('score translation', () => {
  test('text_2 as a string scores one text, as a list scores each', () => {
    assert.deepEqual(parseScoreRequest({ model: 'm', text_1: 'q', text_2: 'a' }).request, { query: 'q', documents: ['a'] });
    assert.deepEqual(parseScoreRequest({ model: 'm', text_1: 'q', text_2: ['a', 'b'] }).request, { query: 'q', documents: ['a', 'b'] });
  });

  test('missing or empty texts are refused naming the field', () => {
    rejects(() => parseScoreRequest({ model: 'm', text_2: 'a' }), /text_1 is required/, 'text_1');
    rejects(() => parseScoreRequest({ model: 'm', text_1: 'q' }), /text_2 is required/, 'text_2');
    rejects(() => parseScoreRequest({ model: 'm', text_1: 'q', text_2: 5 }), /text_2 must be a string or an array of strings/, 'text_2');
  });

  test('the response lists one score per text in request order', () => {
    const response = buildScoreResponse({ id: 's', model: 'm', created: 7, result: { scores: [0.1, 0.8], promptTokens: 9 } });
    assert.deepEqual(response.data, [
      { index: 0, object: 'score', score: 0.1 },
      { index: 1, object: 'score', score: 0.8 },
    ]);
    assert.equal(response.created, 7);
    assert.deepEqual(response.usage, { prompt_tokens: 9, total_tokens: 9 });
  });
});
