import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { parseOllamaChat } from '../../../src/ollama/chat-request.js';
import { assertBadParam } from '../openai/assert-bad-param.js';

const base = { model: 'smollm2', messages: [{ role: 'user', content: 'Hi' }] };

describe('parseOllamaChat', () => {
  test('a plain chat body streams by default and becomes a chat request with its messages', () => {
    const parsed = parseOllamaChat(base);
    assert.equal(parsed.model, 'smollm2');
    assert.equal(parsed.stream, true);
    assert.equal(parsed.action, 'generate');
    assert.deepEqual(parsed.request, { kind: 'chat', messages: [{ role: 'user', content: 'Hi' }], sampling: {}, thinking: { separate: true, trimAnswerStart: true } });
  });

  test('stream false, keep_alive, options and format are all carried', () => {
    const parsed = parseOllamaChat({ ...base, stream: false, keep_alive: '10m', options: { num_ctx: 2048, top_k: 5 }, format: 'json' });
    assert.equal(parsed.stream, false);
    assert.equal(parsed.keepAlive, '10m');
    assert.equal(parsed.numCtx, 2048);
    assert.deepEqual(parsed.request.sampling, { topK: 5, json: true });
  });

  test('the legacy `name` field is accepted in place of `model`', () => {
    assert.equal(parseOllamaChat({ name: 'smollm2', messages: [] }).model, 'smollm2');
  });

  test('a body without a model is refused with "model is required"', () => {
    assert.throws(() => parseOllamaChat({ messages: [] }), (err: unknown) => err instanceof AppError && err.message === 'model is required');
  });

  test('no messages asks for a load, and no messages with keep_alive 0 asks for an unload', () => {
    assert.equal(parseOllamaChat({ model: 'm' }).action, 'load');
    assert.equal(parseOllamaChat({ model: 'm', messages: [] }).action, 'load');
    assert.equal(parseOllamaChat({ model: 'm', messages: [], keep_alive: 0 }).action, 'unload');
    assert.equal(parseOllamaChat({ model: 'm', messages: [], keep_alive: '0s' }).action, 'unload');
    assert.equal(parseOllamaChat({ model: 'm', messages: [], keep_alive: '5m' }).action, 'load');
    assert.equal(parseOllamaChat({ ...base, keep_alive: 0 }).action, 'generate');
  });

  test('an invalid keep_alive is refused', () => {
    assertBadParam(() => parseOllamaChat({ ...base, keep_alive: 'soon' }), 'keep_alive');
  });

  test('Ollama tools (OpenAI function shape) become tool definitions', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } } };
    const parsed = parseOllamaChat({
      ...base,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } }],
    });
    assert.deepEqual(parsed.request.tools, [{ name: 'get_weather', description: 'Weather now', parameters }]);
  });

  test('assistant tool calls with object arguments become JSON text, and tool results are paired with their calls', () => {
    const parsed = parseOllamaChat({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather in Paris and the time in Rome?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { function: { name: 'get_weather', arguments: { city: 'Paris' } } },
            { function: { name: 'get_time', arguments: { city: 'Rome' } } },
          ],
        },
        { role: 'tool', tool_name: 'get_time', content: '12:00' },
        { role: 'tool', content: 'sunny' },
      ],
    });
    const [, assistant, time, weather] = parsed.request.messages;
    assert.deepEqual(assistant!.toolCalls, [
      { id: 'call_1_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_1_1', name: 'get_time', arguments: '{"city":"Rome"}' },
    ]);
    assert.deepEqual(time, { role: 'tool', content: '12:00', name: 'get_time', toolCallId: 'call_1_1' });
    assert.deepEqual(weather, { role: 'tool', content: 'sunny', toolCallId: 'call_1_0' });
  });

  test('explicit call IDs and tool_call_id are kept as sent', () => {
    const parsed = parseOllamaChat({
      model: 'm',
      messages: [
        { role: 'assistant', content: '', tool_calls: [{ id: 'abc', function: { name: 'f', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'abc', content: 'ok' },
      ],
    });
    assert.deepEqual(parsed.request.messages[0]!.toolCalls, [{ id: 'abc', name: 'f', arguments: '{"x":1}' }]);
    assert.equal(parsed.request.messages[1]!.toolCallId, 'abc');
  });

  test('a message with images is refused with "images are not supported by this model"', () => {
    assert.throws(
      () => parseOllamaChat({ model: 'm', messages: [{ role: 'user', content: 'what is this?', images: ['aGVsbG8='] }] }),
      (err: unknown) => err instanceof AppError && err.code === 'bad_request' && err.message === 'images are not supported by this model',
    );
    assert.equal(parseOllamaChat({ model: 'm', messages: [{ role: 'user', content: 'x', images: [] }] }).action, 'generate');
  });

  test('an unknown role is refused naming the message', () => {
    assertBadParam(() => parseOllamaChat({ model: 'm', messages: [{ role: 'developer', content: 'x' }] }), 'messages[0].role');
  });

  test('think true asks for separate thinking and refuses a model that cannot think; false switches it off; unset separates it', () => {
    assert.deepEqual(parseOllamaChat({ ...base, think: true }).request.thinking, { enabled: true, separate: true, trimAnswerStart: true, required: true });
    assert.deepEqual(parseOllamaChat({ ...base, think: 'high' }).request.thinking, { enabled: true, separate: true, trimAnswerStart: true, required: true });
    assert.deepEqual(parseOllamaChat({ ...base, think: false }).request.thinking, { enabled: false });
    assert.deepEqual(parseOllamaChat(base).request.thinking, { separate: true, trimAnswerStart: true });
    assert.deepEqual(parseOllamaChat({ ...base, think: true }).ignored, []);
  });

  test('a think value that is neither a boolean nor an effort level is refused', () => {
    assertBadParam(() => parseOllamaChat({ ...base, think: 'deep' }), 'think');
  });

  test('tool_choice in OpenAI\'s shape and parallel_tool_calls false are carried to the engine request', () => {
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const named = parseOllamaChat({ ...base, tools, tool_choice: { type: 'function', function: { name: 'weather' } }, parallel_tool_calls: false });
    assert.deepEqual(named.request.toolChoice, { name: 'weather' });
    assert.equal(named.request.parallelToolCalls, false);
    for (const choice of ['auto', 'none', 'required'] as const) assert.equal(parseOllamaChat({ ...base, tools, tool_choice: choice }).request.toolChoice, choice);
    const plain = parseOllamaChat({ ...base, tools, parallel_tool_calls: true });
    assert.equal(plain.request.toolChoice, undefined);
    assert.equal(plain.request.parallelToolCalls, undefined);
  });

  test('a tool_choice naming an undeclared function, or of an unknown shape, is a 400 naming tool_choice', () => {
    const tools = [{ type: 'function', function: { name: 'weather' } }];
    assertBadParam(() => parseOllamaChat({ ...base, tools, tool_choice: { type: 'function', function: { name: 'launch' } } }), 'tool_choice');
    assertBadParam(() => parseOllamaChat({ ...base, tools, tool_choice: 'sometimes' }), 'tool_choice');
    assertBadParam(() => parseOllamaChat({ ...base, parallel_tool_calls: 'no' }), 'parallel_tool_calls');
  });
});
