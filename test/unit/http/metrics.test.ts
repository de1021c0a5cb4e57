import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMetrics } from '../../../src/http/common/metrics.js';

describe('metrics', () => {
  test('gauges read the collectors at scrape time and pull bytes accumulate', async () => {
    const metrics = createMetrics();
    let loaded = 1;
    metrics.setCollectors({ loadedModels: () => loaded, queueDepth: () => 4 });
    metrics.pullBytes.inc(1000);
    metrics.pullBytes.inc(24);
    loaded = 3;
    const text = await metrics.registry.metrics();
    assert.match(text, /^model_runner_loaded_models 3$/m);
    assert.match(text, /^model_runner_queue_depth 4$/m);
    assert.match(text, /^model_runner_pull_bytes_total 1024$/m);
  });

  test('a generation records its tokens, time to first token and speed', async () => {
    const metrics = createMetrics();
    metrics.observeGeneration({ id: 'm' }, { promptTokens: 7, completionTokens: 50 }, { timeToFirstTokenMs: 250, promptMs: 200, generationMs: 2000 });
    const text = await metrics.registry.metrics();
    assert.match(text, /^model_runner_prompt_tokens_total\{model="m"\} 7$/m);
    assert.match(text, /^model_runner_generated_tokens_total\{model="m"\} 50$/m);
    assert.match(text, /^model_runner_time_to_first_token_seconds_sum\{model="m"\} 0.25$/m);
    assert.match(text, /^model_runner_generation_tokens_per_second_sum\{model="m"\} 25$/m);
  });

  test('a generation of no tokens records no speed rather than a division by zero', async () => {
    const metrics = createMetrics();
    metrics.observeGeneration({ id: 'm' }, { promptTokens: 7, completionTokens: 0 }, { timeToFirstTokenMs: 0, promptMs: 5, generationMs: 0 });
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /generation_tokens_per_second_count\{model="m"\}/);
  });

  test('two metric sets in one process do not share values', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.pullBytes.inc(5);
    assert.match(await b.registry.metrics(), /^model_runner_pull_bytes_total 0$/m);
  });
});
