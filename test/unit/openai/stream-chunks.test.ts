import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GenerateEvent } from '../../../src/engine/types.js';
import { ChatChunkStream, TextChunkStream } from '../../../src/openai/stream-chunks.js';

const meta = { id: 'chatcmpl-1', created: 1700000000, model: 'ai/smollm2' };
const done = (finishReason: 'stop' | 'tool_calls' | 'length'): GenerateEvent => ({
  type: 'done',
  finishReason,
  usage: { promptTokens: 8, completionTokens: 4 },
  timings: { timeToFirstTokenMs: 1, promptMs: 1, generationMs: 1 },
});

function run(stream: ChatChunkStream, events: GenerateEvent[]) {
  return [stream.start(), ...events.flatMap((e) => stream.push(e))];
}

describe('ChatChunkStream', () => {
  test('the chunk sequence is a role delta, content deltas, an empty finish delta and a usage chunk with no choices', () => {
    const chunks = run(new ChatChunkStream(meta, { includeUsage: true }), [
      { type: 'text', text: 'Hel' },
      { type: 'text', text: '' },
      { type: 'text', text: 'lo' },
      done('stop'),
    ]);
    assert.deepEqual(
      chunks.map((c) => (c.choices[0] ? { delta: c.choices[0].delta, finish: c.choices[0].finish_reason, usage: c.usage } : { usage: c.usage })),
      [
        { delta: { role: 'assistant', content: '' }, finish: null, usage: null },
        { delta: { content: 'Hel' }, finish: null, usage: null },
        { delta: { content: 'lo' }, finish: null, usage: null },
        { delta: {}, finish: 'stop', usage: null },
        { usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 } } },
      ],
    );
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-1' && c.model === 'ai/smollm2'));
    assert.deepEqual(chunks.at(-1)!.choices, []);
  });

  test('thinking streams as reasoning_content deltas, apart from content', () => {
    const chunks = run(new ChatChunkStream(meta), [{ type: 'thinking', text: 'Hm.' }, { type: 'text', text: 'Hi' }, done('stop')]);
    assert.deepEqual(
      chunks.map((c) => c.choices[0]!.delta),
      [{ role: 'assistant', content: '' }, { reasoning_content: 'Hm.' }, { content: 'Hi' }, {}],
    );
  });

  test('tool calls stream as deltas numbered across the whole response, then finish with tool_calls', () => {
    const chunks = run(new ChatChunkStream(meta), [
      { type: 'tool_calls', calls: [{ id: 'c1', name: 'a', arguments: '{}' }] },
      { type: 'tool_calls', calls: [{ id: 'c2', name: 'b', arguments: '{"x":1}' }] },
      done('tool_calls'),
    ]);
    assert.deepEqual(
      chunks.slice(1).map((c) => [c.choices[0]!.delta, c.choices[0]!.finish_reason]),
      [
        [{ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'a', arguments: '{}' } }] }, null],
        [{ tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'b', arguments: '{"x":1}' } }] }, null],
        [{}, 'tool_calls'],
      ],
    );
  });

  test('without include_usage no chunk carries a usage field and no usage chunk follows', () => {
    const chunks = run(new ChatChunkStream(meta), [{ type: 'text', text: 'x' }, done('length')]);
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => !('usage' in c)));
  });
});

describe('TextChunkStream', () => {
  test('text completion chunks carry text, then a finish chunk, then usage when asked', () => {
    const stream = new TextChunkStream({ ...meta, id: 'cmpl-1' }, { includeUsage: true });
    const chunks = [{ type: 'text', text: 'abc' } as GenerateEvent, done('length')].flatMap((e) => stream.push(e));
    assert.deepEqual(
      chunks.map((c) => c.choices[0] ?? c.usage),
      [
        { index: 0, text: 'abc', finish_reason: null, logprobs: null },
        { index: 0, text: '', finish_reason: 'length', logprobs: null },
        { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 } },
      ],
    );
    assert.ok(chunks.every((c) => c.object === 'text_completion'));
  });
});
