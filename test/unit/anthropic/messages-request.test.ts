import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCountTokensRequest, parseMessagesRequest } from '../../../src/anthropic/messages-request.js';
import { AppError } from '../../../src/errors.js';

const base = { model: 'ai/demo', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] };

function rejects(body: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseMessagesRequest(body),
    (err: unknown) => err instanceof AppError && err.code === 'bad_request' && pattern.test(err.message),
  );
}

describe('parseMessagesRequest', () => {
  test('a system string, turns and sampling fields become a chat request with a system message first', () => {
    const parsed = parseMessagesRequest({
      ...base,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
        { role: 'user', content: 'Bye' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 5,
      stop_sequences: ['END'],
      metadata: { user_id: 'u' },
      stream: true,
    });
    assert.equal(parsed.model, 'ai/demo');
    assert.equal(parsed.stream, true);
    assert.deepEqual(parsed.request.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Bye' },
    ]);
    assert.deepEqual(parsed.request.sampling, { maxTokens: 16, temperature: 0.2, topP: 0.9, topK: 5, stop: ['END'] });
  });

  test('a system given as text blocks is joined into one system message', () => {
    const parsed = parseMessagesRequest({ ...base, system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] });
    assert.deepEqual(parsed.request.messages[0], { role: 'system', content: 'A\nB' });
  });

  test('tool_use blocks become the assistant turn tool calls and tool_result blocks become tool messages', () => {
    const parsed = parseMessagesRequest({
      ...base,
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] }, { type: 'text', text: 'Thanks' }] },
      ],
    });
    assert.deepEqual(parsed.request.tools, [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }]);
    assert.deepEqual(parsed.request.messages.slice(1), [
      { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Rome"}' }] },
      { role: 'tool', toolCallId: 'toolu_1', content: 'sunny' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  test('tool_choice auto, any, none and tool map onto the engine tool choices', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    assert.equal(parseMessagesRequest({ ...base, tools, tool_choice: { type: 'auto' } }).request.toolChoice, 'auto');
    assert.equal(parseMessagesRequest({ ...base, tools, tool_choice: { type: 'any' } }).request.toolChoice, 'required');
    assert.equal(parseMessagesRequest({ ...base, tools, tool_choice: { type: 'none' } }).request.toolChoice, 'none');
    assert.deepEqual(parseMessagesRequest({ ...base, tools, tool_choice: { type: 'tool', name: 'f' } }).request.toolChoice, { name: 'f' });
  });

  test('disable_parallel_tool_use inside tool_choice limits the engine request to one call', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    for (const choice of [{ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 'f' }]) {
      assert.equal(parseMessagesRequest({ ...base, tools, tool_choice: { ...choice, disable_parallel_tool_use: true } }).request.parallelToolCalls, false);
      assert.equal(parseMessagesRequest({ ...base, tools, tool_choice: { ...choice, disable_parallel_tool_use: false } }).request.parallelToolCalls, undefined);
    }
    assert.equal(parseMessagesRequest({ ...base, tools }).request.parallelToolCalls, undefined);
  });

  test('a tool_choice naming a tool that is not in tools is refused', () => {
    rejects({ ...base, tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'tool', name: 'g' } }, /"g".*not in tools/);
  });

  test('thinking enabled or disabled switches the template; the reasoning always comes back apart, and past thinking blocks are not rendered', () => {
    assert.deepEqual(parseMessagesRequest(base).request.thinking, { separate: true });
    assert.deepEqual(parseMessagesRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }).request.thinking, { enabled: true, separate: true });
    assert.deepEqual(parseMessagesRequest({ ...base, thinking: { type: 'disabled' } }).request.thinking, { enabled: false, separate: true });
    const history = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'greet back', signature: '' }, { type: 'redacted_thinking', data: 'x' }, { type: 'text', text: 'Hello' }] },
      { role: 'user', content: 'Again' },
    ];
    assert.deepEqual(parseMessagesRequest({ ...base, messages: history }).request.messages[1], { role: 'assistant', content: 'Hello' });
    assert.throws(() => parseMessagesRequest({ ...base, thinking: { type: 'enabled' } }), AppError);
  });

  test('max_tokens is required', () => {
    const { max_tokens: _, ...rest } = base;
    rejects(rest, /max_tokens/);
  });

  test('an image block is refused as not supported yet, naming where it is', () => {
    rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'x' } }] }] }, /messages\[0\]\.content\[0\].*image.*not supported/);
  });

  test('a body that is not an object, an empty messages list and an unknown role are refused', () => {
    rejects([1], /JSON object/);
    rejects({ ...base, messages: [] }, /messages/);
    rejects({ ...base, messages: [{ role: 'system', content: 'x' }] }, /messages\[0\]\.role/);
  });

  test('tool_use in a user turn and tool_result in an assistant turn are refused', () => {
    rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'f', input: {} }] }] }, /assistant turns/);
    rejects({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'a' }] }] }, /user turns/);
  });
});

describe('parseCountTokensRequest', () => {
  test('max_tokens is optional and the request generates nothing', () => {
    const { max_tokens: _, ...rest } = base;
    const parsed = parseCountTokensRequest(rest);
    assert.deepEqual(parsed.request.sampling, { maxTokens: 0 });
    assert.equal(parsed.request.messages.length, 1);
  });
});
