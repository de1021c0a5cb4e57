import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { limitToolCallEvents, ToolCallLimiter, toolCallLimit } from '../../../src/engine/tool-call-limit.js';
import type { ChatRequest, GenerateEvent, ToolCall } from '../../../src/engine/types.js';

const call = (id: string): ToolCall => ({ id, name: 'f', arguments: '{}' });
const chat = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ kind: 'chat', messages: [{ role: 'user', content: 'Hi' }], sampling: {}, ...extra });
const DONE: GenerateEvent = {
  type: 'done',
  finishReason: 'tool_calls',
  usage: { promptTokens: 1, completionTokens: 1 },
  timings: { timeToFirstTokenMs: 1, promptMs: 1, generationMs: 1 },
};

describe('the tool-call limit of an answer', () => {
  test('parallelToolCalls false allows one call; true or absent allows any number', () => {
    assert.equal(toolCallLimit(chat({ parallelToolCalls: false })), 1);
    assert.equal(toolCallLimit(chat({ parallelToolCalls: true })), Number.POSITIVE_INFINITY);
    assert.equal(toolCallLimit(chat()), Number.POSITIVE_INFINITY);
  });

  test('the limiter counts across batches of calls and passes nothing past its limit', () => {
    const limiter = new ToolCallLimiter(2);
    assert.deepEqual(limiter.take([call('a')]).map((c) => c.id), ['a']);
    assert.deepEqual(limiter.take([call('b'), call('c')]).map((c) => c.id), ['b']);
    assert.deepEqual(limiter.take([call('d')]), []);
  });

  test('with parallel calls off, the event sink sees only the first call and drops emptied tool_calls events; text and done pass', () => {
    const seen: GenerateEvent[] = [];
    const emit = limitToolCallEvents(chat({ parallelToolCalls: false }), (event) => seen.push(event));
    emit({ type: 'text', text: 'Let me check.' });
    emit({ type: 'tool_calls', calls: [call('a'), call('b')] });
    emit({ type: 'tool_calls', calls: [call('c')] });
    emit(DONE);
    assert.deepEqual(seen, [{ type: 'text', text: 'Let me check.' }, { type: 'tool_calls', calls: [call('a')] }, DONE]);
  });

  test('with parallel calls on, or for a completion, the sink is passed through untouched', () => {
    const sink = () => {};
    assert.equal(limitToolCallEvents(chat(), sink), sink);
    assert.equal(limitToolCallEvents({ kind: 'completion', prompt: 'Hi', sampling: {} }, sink), sink);
  });
});
