import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseInput, toChatMessages } from '../../../src/responses/input-items.js';
import { parseResponsesRequest, toEngineRequest } from '../../../src/responses/request.js';
import { assertBadParam } from '../openai/assert-bad-param.js';

const WEATHER = { type: 'function', name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true };

describe('parseResponsesRequest', () => {
  test('a string input becomes one user message, with store on and streaming off by default', () => {
    const parsed = parseResponsesRequest({ model: 'ai/demo', input: 'Hi' });
    assert.equal(parsed.store, true);
    assert.equal(parsed.stream, false);
    assert.deepEqual(parsed.input, [{ type: 'message', role: 'user', content: 'Hi' }]);
    assert.deepEqual(parsed.echo.text, { format: { type: 'text' } });
    assert.equal(parsed.echo.tool_choice, 'auto');
  });

  test('flat function tools and a named tool_choice become the chat path tool definitions and choice', () => {
    const parsed = parseResponsesRequest({ model: 'm', input: 'x', tools: [WEATHER], tool_choice: { type: 'function', name: 'get_weather' } });
    const request = toEngineRequest(parsed, []);
    assert.deepEqual(request.tools, [{ name: 'get_weather', description: 'Weather of a city', parameters: WEATHER.parameters }]);
    assert.deepEqual(request.toolChoice, { name: 'get_weather' });
  });

  test('a tool_choice naming a function not in tools is refused', () => {
    assertBadParam(() => parseResponsesRequest({ model: 'm', input: 'x', tools: [WEATHER], tool_choice: { type: 'function', name: 'other' } }), 'tool_choice');
  });

  test('a non-function tool is refused by name', () => {
    assertBadParam(() => parseResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }] }), 'tools[0].type');
  });

  test('text.format json_schema constrains sampling to the schema, json_object to any JSON', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const strict = parseResponsesRequest({ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 's', schema } } });
    assert.deepEqual(strict.sampling.jsonSchema, schema);
    const loose = parseResponsesRequest({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } });
    assert.equal(loose.sampling.json, true);
  });

  test('max_output_tokens, temperature and top_p reach sampling and are echoed', () => {
    const parsed = parseResponsesRequest({ model: 'm', input: 'x', max_output_tokens: 7, temperature: 0.5, top_p: 0.9, metadata: { k: 'v' } });
    assert.equal(parsed.sampling.maxTokens, 7);
    assert.equal(parsed.sampling.temperature, 0.5);
    assert.equal(parsed.echo.max_output_tokens, 7);
    assert.equal(parsed.echo.top_p, 0.9);
    assert.deepEqual(parsed.echo.metadata, { k: 'v' });
  });

  test('a missing input, a zero max_output_tokens and a non-string metadata value are each refused by name', () => {
    assertBadParam(() => parseResponsesRequest({ model: 'm' }), 'input');
    assertBadParam(() => parseResponsesRequest({ model: 'm', input: 'x', max_output_tokens: 0 }), 'max_output_tokens');
    assertBadParam(() => parseResponsesRequest({ model: 'm', input: 'x', metadata: { k: 1 } }), 'metadata');
  });
});

describe('input items to chat messages', () => {
  test('instructions lead as a system message, and function calls join the assistant turn they belong to', () => {
    const items = parseInput([
      { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
    ]);
    assert.deepEqual(toChatMessages('Be brief.', items), [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
      },
      { role: 'tool', content: 'sunny', toolCallId: 'call_1' },
    ]);
  });

  test('an echoed reasoning item is accepted and left out of the conversation', () => {
    assert.deepEqual(parseInput([{ type: 'reasoning', id: 'rs_1', summary: [] }, { role: 'user', content: 'hi' }]), [{ type: 'message', role: 'user', content: 'hi' }]);
  });

  test('an unsupported item type or content part is refused by its position', () => {
    assertBadParam(() => parseInput([{ type: 'file_search_call', id: 'fs_1' }]), 'input[0].type');
    assertBadParam(() => parseInput([{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }]), 'input[0].content[0].type');
  });
});

describe('llama-server sampling extensions on /v1/responses', () => {
  test('seed, top_k, ignore_eos and stop reach sampling as on the chat route', () => {
    const parsed = parseResponsesRequest({ model: 'm', input: 'x', seed: 3, top_k: 5, ignore_eos: true, stop: ['\n'] });
    assert.equal(parsed.sampling.seed, 3);
    assert.equal(parsed.sampling.topK, 5);
    assert.equal(parsed.sampling.ignoreEos, true);
    assert.deepEqual(parsed.sampling.stop, ['\n']);
  });
});

describe('an assistant turn with text and calls', () => {
  test('becomes one assistant message carrying its text and its calls', () => {
    const items = parseInput([
      { role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
    ]);
    assert.deepEqual(toChatMessages(undefined, items), [{ role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }] }]);
  });
});

describe('parallel_tool_calls: false', () => {
  test('is asked of the engine, and the echo keeps it as sent', () => {
    const parsed = parseResponsesRequest({ model: 'm', input: 'Hi', parallel_tool_calls: false, tools: [{ type: 'function', name: 'f' }], tool_choice: 'required' });
    assert.equal(parsed.echo.parallel_tool_calls, false);
    assert.equal(toEngineRequest(parsed, []).parallelToolCalls, false);
    const parallel = parseResponsesRequest({ model: 'm', input: 'Hi' });
    assert.equal(toEngineRequest(parallel, []).parallelToolCalls, undefined);
  });
});
