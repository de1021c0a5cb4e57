import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildMessage, MessageEventStream, toAnthropicUsage } from '../../../src/anthropic/messages-response.js';
import type { FinishReason, GenerateEvent } from '../../../src/engine/types.js';

const meta = { id: 'msg_1', model: 'ai/demo' };
const usage = { promptTokens: 10, completionTokens: 4, cachedTokens: 3 };
const done = (finishReason: FinishReason): GenerateEvent => ({ type: 'done', finishReason, usage, timings: { timeToFirstTokenMs: 1, promptMs: 1, generationMs: 1 } });

describe('buildMessage', () => {
  test('text and tool calls become text and tool_use blocks with the tool_use stop reason', () => {
    const message = buildMessage(meta, { text: 'Let me check.', toolCalls: [{ id: 'call_0', name: 'f', arguments: '{"a":1}' }], finishReason: 'tool_calls', usage });
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_call_0', name: 'f', input: { a: 1 } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
  });

  test('a length finish is max_tokens, a stop is end_turn, and an empty answer still has one text block', () => {
    assert.equal(buildMessage(meta, { text: 'x', toolCalls: [], finishReason: 'length', usage }).stop_reason, 'max_tokens');
    const empty = buildMessage(meta, { text: '', toolCalls: [], finishReason: 'stop', usage });
    assert.equal(empty.stop_reason, 'end_turn');
    assert.deepEqual(empty.content, [{ type: 'text', text: '' }]);
  });

  test('a stop naming the stop sequence that matched is stop_sequence, with the sequence echoed', () => {
    const message = buildMessage(meta, { text: 'x', toolCalls: [], finishReason: 'stop', usage, stopSequence: 'END' });
    assert.equal(message.stop_reason, 'stop_sequence');
    assert.equal(message.stop_sequence, 'END');
  });

  test('thinking comes first as a thinking block with an empty signature, before the text', () => {
    const message = buildMessage(meta, { text: 'Hi', thinking: 'The user greets me.', toolCalls: [], finishReason: 'stop', usage });
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: 'The user greets me.', signature: '' },
      { type: 'text', text: 'Hi' },
    ]);
  });

  test('usage splits cached prompt tokens out of input_tokens into cache_read_input_tokens', () => {
    assert.deepEqual(toAnthropicUsage(usage), { input_tokens: 7, output_tokens: 4, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 });
  });
});

describe('MessageEventStream', () => {
  test('text streams as message_start, ping, one text block of deltas, message_delta and message_stop', () => {
    const stream = new MessageEventStream(meta);
    const events = [...stream.start(), ...[{ type: 'text', text: 'Hel' }, { type: 'text', text: '' }, { type: 'text', text: 'lo' }, done('length')].flatMap((e) => stream.push(e as GenerateEvent))];
    assert.deepEqual(
      events.map((e) => e.event),
      ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.deepEqual(events[3]!.data.delta, { type: 'text_delta', text: 'Hel' });
    assert.deepEqual(events[6]!.data, {
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { input_tokens: 7, output_tokens: 4, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 },
    });
  });

  test('a tool call closes the text block and opens a tool_use block at the next index with an input_json_delta', () => {
    const stream = new MessageEventStream(meta);
    const events = [{ type: 'text', text: 'Hm' }, { type: 'tool_calls', calls: [{ id: 'c', name: 'f', arguments: '{"a":1}' }] }, done('tool_calls')].flatMap((e) => stream.push(e as GenerateEvent));
    assert.deepEqual(
      events.map((e) => [e.event, e.data.index]),
      [
        ['content_block_start', 0],
        ['content_block_delta', 0],
        ['content_block_stop', 0],
        ['content_block_start', 1],
        ['content_block_delta', 1],
        ['content_block_stop', 1],
        ['message_delta', undefined],
        ['message_stop', undefined],
      ],
    );
    assert.deepEqual(events[4]!.data.delta, { type: 'input_json_delta', partial_json: '{"a":1}' });
    assert.equal((events[6]!.data.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });

  test('thinking streams as a thinking block of thinking_deltas closed by a signature_delta, then the text block at the next index', () => {
    const stream = new MessageEventStream(meta);
    const events = [{ type: 'thinking', text: 'Hm' }, { type: 'thinking', text: 'm.' }, { type: 'text', text: 'Hi' }, done('stop')].flatMap((e) => stream.push(e as GenerateEvent));
    assert.deepEqual(
      events.map((e) => [e.event, e.data.index, (e.data.delta as { type?: string } | undefined)?.type]),
      [
        ['content_block_start', 0, undefined],
        ['content_block_delta', 0, 'thinking_delta'],
        ['content_block_delta', 0, 'thinking_delta'],
        ['content_block_delta', 0, 'signature_delta'],
        ['content_block_stop', 0, undefined],
        ['content_block_start', 1, undefined],
        ['content_block_delta', 1, 'text_delta'],
        ['content_block_stop', 1, undefined],
        ['message_delta', undefined, undefined],
        ['message_stop', undefined, undefined],
      ],
    );
    assert.deepEqual(events[0]!.data.content_block, { type: 'thinking', thinking: '', signature: '' });
    assert.deepEqual(events[1]!.data.delta, { type: 'thinking_delta', thinking: 'Hm' });
  });

  test('a generation with no output still sends one empty text block before message_delta', () => {
    const events = new MessageEventStream(meta).push(done('stop'));
    assert.deepEqual(events.map((e) => e.event), ['content_block_start', 'content_block_stop', 'message_delta', 'message_stop']);
  });
});
