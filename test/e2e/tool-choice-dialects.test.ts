/**
 * tool_choice and parallel_tool_calls in every chat dialect, judged by the official clients
 * unchanged (openai, @anthropic-ai/sdk, ollama) over the compiled server's TCP port. The model is
 * a tiny random one: a forced choice is the only way it calls a tool, and the grammar makes that
 * call well-formed, so these tests check which function is called and how many calls come back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Anthropic from '@anthropic-ai/sdk';
import type { Ollama, ChatRequest as OllamaChatRequest } from 'ollama';
import OpenAI from 'openai';
import { startDemoServer } from '../support/demo-server.js';
import { anthropicClient, ollamaClient, openaiClient } from '../support/sdk-clients.js';
import type { ServerProcess } from '../support/server-harness.js';

const DEMO = 'ai/demo';
/** Tool prompts need far more than the tiny model's packaged context. */
const SERVER_ARGS = ['--port', '0', '--threads', '1', '--parallel', '1', '--context-size', '16384'];
const CITY = { type: 'object' as const, properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'] };
const ZONE = { type: 'object' as const, properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'] };
const NO_PARAMETERS = { type: 'object' as const, properties: {} };
const QUESTION = 'What is the weather in Rome, and what time is it?';

/** Ollama's tool_choice and parallel_tool_calls are extensions in OpenAI's shape; the client sends any field it is given. */
type ExtendedOllamaChat = OllamaChatRequest & { tool_choice?: unknown; parallel_tool_calls?: boolean };

describe('tool_choice and parallel_tool_calls in every chat dialect', () => {
  let server: ServerProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let ollama: Ollama;

  before(async () => {
    ({ server } = await startDemoServer({ args: SERVER_ARGS }));
    openai = openaiClient(server, '/engines/v1');
    anthropic = anthropicClient(server);
    ollama = ollamaClient(server);
  });

  after(async () => {
    await server?.dispose();
  });

  const openaiTools: OpenAI.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'get_weather', description: 'Current weather of a city', parameters: CITY } },
    { type: 'function', function: { name: 'get_time', description: 'Current time', parameters: ZONE } },
  ];

  test('OpenAI chat: tool_choice required with parallel_tool_calls false answers exactly one call', async () => {
    const completion = await openai.chat.completions.create({
      model: DEMO,
      messages: [{ role: 'user', content: QUESTION }],
      tools: openaiTools,
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_tokens: 100,
      temperature: 0,
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls?.length, 1);
    const call = choice.message.tool_calls![0]!;
    assert.ok(call.type === 'function' && ['get_weather', 'get_time'].includes(call.function.name), JSON.stringify(call));
  });

  test('Anthropic: tool_choice any with disable_parallel_tool_use answers exactly one tool_use block', async () => {
    const message = await anthropic.messages.create({
      model: DEMO,
      max_tokens: 100,
      tools: [
        { name: 'get_weather', description: 'Current weather of a city', input_schema: CITY },
        { name: 'get_time', description: 'Current time', input_schema: ZONE },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: QUESTION }],
    });
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.content.filter((block) => block.type === 'tool_use').length, 1, JSON.stringify(message.content));
  });

  test('Ollama /api/chat: a tool_choice naming a function forces a call to that function, whole and streamed', async () => {
    const request: ExtendedOllamaChat = {
      model: DEMO,
      messages: [{ role: 'user', content: QUESTION }],
      tools: openaiTools as OllamaChatRequest['tools'],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      options: { temperature: 0, num_predict: 100 },
    };
    const whole = await ollama.chat({ ...request, stream: false });
    assert.deepEqual(whole.message.tool_calls?.map((c) => c.function.name), ['get_time']);
    assert.ok(['UTC', 'CET'].includes((whole.message.tool_calls![0]!.function.arguments as { zone: string }).zone));

    const names: string[] = [];
    for await (const chunk of await ollama.chat({ ...request, stream: true })) {
      for (const call of chunk.message.tool_calls ?? []) names.push(call.function.name);
    }
    assert.deepEqual(names, ['get_time']);
  });

  test('Ollama /api/chat: tool_choice required with parallel_tool_calls false answers exactly one call with arguments matching its schema', async () => {
    const request: ExtendedOllamaChat = {
      model: DEMO,
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [openaiTools[0]!] as OllamaChatRequest['tools'],
      tool_choice: 'required',
      parallel_tool_calls: false,
      options: { temperature: 0, num_predict: 100 },
    };
    const reply = await ollama.chat({ ...request, stream: false });
    assert.equal(reply.message.tool_calls?.length, 1);
    const call = reply.message.tool_calls![0]!;
    assert.equal(call.function.name, 'get_weather');
    assert.ok(['Paris', 'Rome'].includes((call.function.arguments as { city: string }).city), JSON.stringify(call));
  });

  test('a forced call to a function without parameters ends at its closed arguments rather than running to the token limit', async () => {
    const completion = await openai.chat.completions.create({
      model: DEMO,
      messages: [{ role: 'user', content: 'Ping?' }],
      tools: [{ type: 'function', function: { name: 'ping', description: 'Checks the line', parameters: NO_PARAMETERS } }],
      tool_choice: { type: 'function', function: { name: 'ping' } },
      max_tokens: 100,
      temperature: 0,
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
    const call = choice.message.tool_calls![0]!;
    assert.ok(call.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), {});
    assert.ok(completion.usage!.completion_tokens < 100, JSON.stringify(completion.usage));
  });

  test('Ollama /api/chat: tool_choice none answers text without calls, and a choice naming an undeclared function is a 400', async () => {
    const request: ExtendedOllamaChat = {
      model: DEMO,
      messages: [{ role: 'user', content: QUESTION }],
      tools: openaiTools as OllamaChatRequest['tools'],
      tool_choice: 'none',
      options: { temperature: 0, num_predict: 4 },
    };
    const reply = await ollama.chat({ ...request, stream: false });
    assert.equal(reply.message.tool_calls, undefined);

    await assert.rejects(
      ollama.chat({ ...request, tool_choice: { type: 'function', function: { name: 'launch' } }, stream: false } as ExtendedOllamaChat & { stream: false }),
      (err: Error & { status_code?: number }) => {
        assert.equal(err.status_code, 400);
        assert.match(err.message, /tool_choice names function "launch"/);
        return true;
      },
    );
  });
});
