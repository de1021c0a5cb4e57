import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toServerTimings } from '../../../src/openai/server-timings.js';

test("timings count evaluated prompt tokens apart from cached ones, and rate decoding over the steps after the first token", () => {
  const timings = toServerTimings([{ usage: { promptTokens: 120, cachedTokens: 20, completionTokens: 11 }, timings: { timeToFirstTokenMs: 260, promptMs: 250, generationMs: 100 } }]);
  assert.deepEqual(timings, {
    cache_n: 20,
    prompt_n: 100,
    prompt_ms: 250,
    prompt_per_token_ms: 2.5,
    prompt_per_second: 400,
    predicted_n: 11,
    predicted_ms: 100,
    predicted_per_token_ms: 10,
    predicted_per_second: 100,
  });
});

test('several choices share one prompt evaluation and add up their generated tokens and time', () => {
  const timings = toServerTimings([
    { usage: { promptTokens: 50, completionTokens: 5 }, timings: { timeToFirstTokenMs: 60, promptMs: 50, generationMs: 40 } },
    { usage: { promptTokens: 50, cachedTokens: 49, completionTokens: 3 }, timings: { timeToFirstTokenMs: 9, promptMs: 5, generationMs: 20 } },
  ]);
  assert.equal(timings.cache_n, 0);
  assert.equal(timings.prompt_n, 50);
  assert.equal(timings.prompt_ms, 50);
  assert.equal(timings.predicted_n, 8);
  assert.equal(timings.predicted_ms, 60);
  assert.equal(timings.predicted_per_second, 100, '6 decode steps in 60 ms');
});

test('a rate with no time or no tokens behind it is 0, never Infinity or NaN', () => {
  const timings = toServerTimings([{ usage: { promptTokens: 7, cachedTokens: 7, completionTokens: 1 }, timings: { timeToFirstTokenMs: 0, promptMs: 0, generationMs: 0 } }]);
  assert.equal(timings.prompt_n, 0);
  for (const key of ['prompt_per_token_ms', 'prompt_per_second', 'predicted_per_token_ms', 'predicted_per_second'] as const) assert.equal(timings[key], 0, key);
  assert.throws(() => toServerTimings([]), /at least one generation/);
});
