import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chatChunk,
  chatFinal,
  doneReason,
  finalFields,
  generateFinal,
  lifecycleReply,
  msToNs,
  toOllamaToolCalls,
} from '../../../src/ollama/responses.js';

const stats = {
  totalMs: 512.5,
  loadMs: 2,
  usage: { promptTokens: 12, completionTokens: 3 },
  promptMs: 100,
  generationMs: 300.25,
};

describe('Ollama responses', () => {
  test('durations are reported in nanoseconds, rounded to whole numbers', () => {
    assert.equal(msToNs(1), 1_000_000);
    assert.equal(msToNs(0.0000015), 2);
    assert.equal(msToNs(-3), 0);
  });

  test('the final fields carry the reason, token counts and every duration in nanoseconds', () => {
    assert.deepEqual(finalFields('stop', stats), {
      done: true,
      done_reason: 'stop',
      total_duration: 512_500_000,
      load_duration: 2_000_000,
      prompt_eval_count: 12,
      prompt_eval_duration: 100_000_000,
      eval_count: 3,
      eval_duration: 300_250_000,
    });
  });

  test('prompt tokens served from the KV cache are reported as prompt_eval_cached_count, as Ollama does, and counted in prompt_eval_count too', () => {
    const cached = finalFields('stop', { ...stats, usage: { ...stats.usage, cachedTokens: 8 } });
    assert.equal(cached.prompt_eval_count, 12);
    assert.equal(cached.prompt_eval_cached_count, 8);
    assert.equal('prompt_eval_cached_count' in finalFields('stop', { ...stats, usage: { ...stats.usage, cachedTokens: 0 } }), false, 'omitted when none, like Ollama');
  });

  test('engine finish reasons map onto stop and length; a tool call is a stop', () => {
    assert.equal(doneReason('stop'), 'stop');
    assert.equal(doneReason('length'), 'length');
    assert.equal(doneReason('tool_calls'), 'stop');
  });

  test('tool calls carry their arguments as an object, with a running index', () => {
    assert.deepEqual(
      toOllamaToolCalls(
        [
          { id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'c2', name: 'broken', arguments: 'not json' },
        ],
        3,
      ),
      [
        { id: 'c1', function: { index: 3, name: 'get_weather', arguments: { city: 'Paris' } } },
        { id: 'c2', function: { index: 4, name: 'broken', arguments: {} } },
      ],
    );
  });

  test('a chat chunk holds an assistant message and done false; tool calls appear only when there are some', () => {
    assert.deepEqual(chatChunk('m', 't', 'Hel'), { model: 'm', created_at: 't', message: { role: 'assistant', content: 'Hel' }, done: false });
    const calls = toOllamaToolCalls([{ id: 'c', name: 'f', arguments: '{}' }]);
    assert.deepEqual(chatChunk('m', 't', '', calls).message, { role: 'assistant', content: '', tool_calls: calls });
  });

  test('final chat and generate objects merge the answer with the final fields', () => {
    const fields = finalFields('length', stats);
    const chat = chatFinal('m', 't', { role: 'assistant', content: 'Hi' }, fields);
    assert.equal(chat.done, true);
    assert.equal(chat.done_reason, 'length');
    assert.deepEqual(chat.message, { role: 'assistant', content: 'Hi' });
    const generate = generateFinal('m', 't', 'Hi', fields);
    assert.equal(generate.response, 'Hi');
    assert.equal(generate.eval_count, 3);
  });

  test('load and unload replies say so in done_reason and carry an empty answer', () => {
    assert.deepEqual(lifecycleReply('chat', 'm', 't', 'load'), {
      model: 'm',
      created_at: 't',
      message: { role: 'assistant', content: '' },
      done_reason: 'load',
      done: true,
    });
    assert.deepEqual(lifecycleReply('generate', 'm', 't', 'unload'), { model: 'm', created_at: 't', response: '', done_reason: 'unload', done: true });
  });
});
