import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseChatRequest } from '../../../src/openai/chat-request.js';
import { assertBadParam } from './assert-bad-param.js';

const base = { model: 'ai/smollm2', messages: [{ role: 'user', content: 'Hi' }] };

describe('parseChatRequest', () => {
  test('a minimal body becomes a chat request with defaults for stream and usage', () => {
    const parsed = parseChatRequest(base);
    assert.deepEqual(parsed, {
      model: 'ai/smollm2',
      stream: false,
      includeUsage: false,
      keepAlive: undefined,
      choices: 1,
      request: { kind: 'chat', messages: [{ role: 'user', content: 'Hi' }], sampling: {}, thinking: { separate: true } },
    });
  });

  test('stream, stream_options.include_usage and keep_alive are read, and unknown fields are ignored', () => {
    const parsed = parseChatRequest({ ...base, stream: true, stream_options: { include_usage: true }, keep_alive: '5m', user: 'x', logprobs: false });
    assert.equal(parsed.stream, true);
    assert.equal(parsed.includeUsage, true);
    assert.equal(parsed.keepAlive, '5m');
  });

  test('every role maps to the engine vocabulary, developer becoming system', () => {
    const parsed = parseChatRequest({
      model: 'm',
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }], name: 'ann' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', content: '12C', tool_call_id: 'call_1' },
      ],
    });
    assert.deepEqual(parsed.request.messages, [
      { role: 'system', content: 'be brief' },
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'part one\npart two', name: 'ann' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'tool', content: '12C', toolCallId: 'call_1' },
    ]);
  });

  test('tool call arguments sent as an object are turned into JSON text', () => {
    const parsed = parseChatRequest({
      model: 'm',
      messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }],
    });
    assert.equal(parsed.request.messages[0]!.toolCalls![0]!.arguments, '{"a":1}');
  });

  test('parallel_tool_calls false limits the engine request to one call; true or absent leaves the default', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    assert.equal(parseChatRequest({ ...base, tools, parallel_tool_calls: false }).request.parallelToolCalls, false);
    assert.equal(parseChatRequest({ ...base, tools, parallel_tool_calls: true }).request.parallelToolCalls, undefined);
    assert.equal(parseChatRequest({ ...base, tools }).request.parallelToolCalls, undefined);
  });

  test('tools and tool_choice map to tool definitions and the chosen function', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } } };
    const parsed = parseChatRequest({
      ...base,
      tools: [{ type: 'function', function: { name: 'weather', description: 'Looks up weather', parameters } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
    });
    assert.deepEqual(parsed.request.tools, [{ name: 'weather', description: 'Looks up weather', parameters }]);
    assert.deepEqual(parsed.request.toolChoice, { name: 'weather' });
    for (const choice of ['auto', 'none', 'required'] as const) {
      assert.equal(parseChatRequest({ ...base, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice }).request.toolChoice, choice);
    }
  });

  test('sampling parameters travel in the request', () => {
    assert.deepEqual(parseChatRequest({ ...base, max_completion_tokens: 9, top_k: 3 }).request.sampling, { maxTokens: 9, topK: 3 });
  });

  const invalid: Array<[string, unknown, string]> = [
    ['a missing model', { messages: base.messages }, 'model'],
    ['a numeric model', { ...base, model: 5 }, 'model'],
    ['n of 9', { ...base, n: 9 }, 'n'],
    ['a string stream', { ...base, stream: 'yes' }, 'stream'],
    ['a non-boolean include_usage', { ...base, stream_options: { include_usage: 1 } }, 'stream_options.include_usage'],
    ['an unparseable keep_alive', { ...base, keep_alive: 'later' }, 'keep_alive'],
    ['missing messages', { model: 'm' }, 'messages'],
    ['an empty message list', { model: 'm', messages: [] }, 'messages'],
    ['an unknown role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['numeric content', { model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    ['an image content part', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type'],
    ['a tool call without a function name', { model: 'm', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: {} }] }] }, 'messages[0].tool_calls[0].function.name'],
    ['a numeric tool_call_id', { model: 'm', messages: [{ role: 'tool', content: 'x', tool_call_id: 7 }] }, 'messages[0].tool_call_id'],
    ['tools that are not an array', { ...base, tools: {} }, 'tools'],
    ['a tool of another type', { ...base, tools: [{ type: 'retrieval' }] }, 'tools[0].type'],
    ['a tool without a name', { ...base, tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
    ['an unknown tool_choice', { ...base, tool_choice: 'sometimes' }, 'tool_choice'],
    ['a tool_choice naming a function not in tools', { ...base, tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } }, 'tool_choice'],
    ['temperature out of range', { ...base, temperature: 3 }, 'temperature'],
    ['an unknown reasoning_format', { ...base, reasoning_format: 'xml' }, 'reasoning_format'],
    ['an enable_thinking that is not a boolean', { ...base, chat_template_kwargs: { enable_thinking: 'no' } }, 'chat_template_kwargs.enable_thinking'],
  ];
  for (const [what, body, param] of invalid) {
    test(`${what} is a bad request naming ${param}`, () => {
      assertBadParam(() => parseChatRequest(body), param);
    });
  }

  test('reasoning is split off by default, left in the text with reasoning_format none, and switched by enable_thinking or reasoning_effort', () => {
    assert.deepEqual(parseChatRequest(base).request.thinking, { separate: true });
    assert.deepEqual(parseChatRequest({ ...base, reasoning_format: 'none' }).request.thinking, { separate: false });
    assert.deepEqual(parseChatRequest({ ...base, chat_template_kwargs: { enable_thinking: false } }).request.thinking, { separate: true, enabled: false });
    assert.deepEqual(parseChatRequest({ ...base, reasoning_effort: 'none' }).request.thinking, { separate: true, enabled: false });
    assert.deepEqual(parseChatRequest({ ...base, reasoning_effort: 'low' }).request.thinking, { separate: true, enabled: true });
  });

  test('a body that is not an object is a bad request', () => {
    assert.throws(() => parseChatRequest([1, 2]), { code: 'bad_request', message: /JSON object/ });
  });
});
