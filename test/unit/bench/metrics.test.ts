import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamOutcome } from '../../../src/bench/http-client.js';
import { requestMetrics, summarizeLevel } from '../../../src/bench/metrics.js';

function outcome(over: Partial<StreamOutcome>): StreamOutcome {
  return { ok: true, status: 200, startMs: 1000, firstTokenMs: 1100, lastTokenMs: 2000, finishMs: 2000, endMs: 2010, contentChunks: 10, ...over };
}

describe('bench metrics', () => {
  it('measures decode speed over the tokens after the first one', () => {
    const m = requestMetrics(outcome({ usage: { prompt_tokens: 50, completion_tokens: 91 } }))!;
    assert.equal(m.ttftMs, 100);
    assert.equal(m.decodeTps, 100); // 90 tokens in 0.9 s
    assert.equal(m.promptTps, 500); // 50 tokens in 0.1 s
    assert.equal(m.tokenSource, 'usage');
  });

  it('falls back to counting text chunks when the server sends no usage', () => {
    const m = requestMetrics(outcome({}))!;
    assert.equal(m.completionTokens, 10);
    assert.equal(m.tokenSource, 'chunks');
    assert.equal(m.promptTokens, undefined);
    assert.equal(m.promptTps, undefined);
  });

  it('takes the server prompt speed and prompt count from llama-server timings', () => {
    const m = requestMetrics(outcome({ timings: { prompt_n: 40, prompt_per_second: 812.5, cache_n: 3 } }))!;
    assert.equal(m.promptTokens, 40);
    assert.equal(m.serverPromptTps, 812.5);
    assert.equal(m.cachedPromptTokens, 3);
  });

  it('gives no decode speed for a one-token reply', () => {
    assert.equal(requestMetrics(outcome({ usage: { prompt_tokens: 5, completion_tokens: 1 } }))!.decodeTps, undefined);
  });

  it('treats failed requests and replies without any token as errors of the level', () => {
    const level = summarizeLevel(2, [
      outcome({ usage: { prompt_tokens: 10, completion_tokens: 11 } }),
      outcome({ ok: false, status: 500, error: 'HTTP 500: boom', firstTokenMs: undefined }),
      outcome({ firstTokenMs: undefined, contentChunks: 0 }),
    ]);
    assert.equal(level.requests, 3);
    assert.equal(level.errors, 2);
    assert.deepEqual(level.errorSamples, ['HTTP 500: boom', 'no token in the reply']);
    assert.equal(level.completionTokens, 11);
    assert.equal(level.promptTokens, 10);
    assert.equal(level.ttftMs.count, 1);
  });

  it('divides all generated tokens by the wall time from first start to last end', () => {
    const level = summarizeLevel(2, [
      outcome({ startMs: 0, endMs: 1000, firstTokenMs: 10, usage: { prompt_tokens: 1, completion_tokens: 50 } }),
      outcome({ startMs: 500, endMs: 2000, firstTokenMs: 600, usage: { prompt_tokens: 1, completion_tokens: 50 } }),
    ]);
    assert.equal(level.wallMs, 2000);
    assert.equal(level.aggregateTps, 50);
    assert.equal(level.tokenSource, 'usage');
  });
});
