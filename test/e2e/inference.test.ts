/**
 * OpenAI-compatible inference through the compiled server: real Workers running node-llama-cpp
 * on two tiny generated models (ai/demo and ai/second, different weights). One server for the
 * whole file; the tests run in order and some rely on what earlier ones loaded.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { type ServerProcess } from '../support/server-harness.js';
import { parseSse } from '../support/http-client.js';
import { generateTinyGguf, packageIntoStore } from './support/fixtures.js';
import { type LiveStream, openStream } from './support/sse-stream.js';
import { waitUntil } from './support/wait.js';

const DEMO = 'ai/demo';
const SECOND = 'ai/second';
/** Per-sequence context. Tool prompts need far more than the tiny model's 512 (its vocabulary is nearly a token per character). */
const CONTEXT_SIZE = 16384;
/** A stop string that blocks the Worker after two tokens until the file after the colon exists (the test fault switch is on). */
const HOLD_FAULT = '__fault_hold__:';
/** A stop string that makes a generation wait after two tokens until it is cancelled. */
const AWAIT_CANCEL_FAULT = '__fault_await_cancel__';
const HELLO = [{ role: 'user', content: 'Hello, how are you?' }];
/**
 * One thread per model (more only oversubscribes two cores), and a budget of three so that
 * ai/demo for chat, ai/demo for embeddings and ai/second stay loaded side by side: the thread
 * budget is shared, and a model that does not fit in it evicts or waits for another.
 */
const SERVER_ARGS = ['--threads', '3', '--max-loaded-models', '3', '--parallel', '1', '--context-size', String(CONTEXT_SIZE), '--log-level', 'warn'];

interface ChatCompletion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string | null; tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }> };
    finish_reason: string;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe('OpenAI-compatible inference in the compiled server', () => {
  let server: ServerProcess;
  /** The demo model's ID (sha256:...), which labels its metrics. */
  let demoId: string;

  const chat = (body: Record<string, unknown>, prefix = '/engines/v1') => server.request(`${prefix}/chat/completions`, { body });
  const ps = async () => (await server.request('/engines/ps')).json() as Array<{ model_name: string; mode: string; in_use: number; context_size: number }>;

  /** A streaming chat read frame by frame, so tests can act while it runs. */
  async function stream(body: Record<string, unknown>): Promise<LiveStream> {
    const live = await openStream(server.socketPath, '/engines/v1/chat/completions', { body: { ...body, stream: true } });
    assert.equal(live.status, 200);
    return live;
  }

  before(async () => {
    ({ server, demoId } = await startDemoServer({
      args: SERVER_ARGS,
      env: { MODEL_RUNNER_TEST_FAULTS: '1' },
      prepare: async ({ dir, modelsPath }) => packageIntoStore(await generateTinyGguf(dir, 2), modelsPath, SECOND),
    }));
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server survived the file and exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('a non-streaming chat completion has the OpenAI shape and consistent usage', async () => {
    const reply = await chat({ model: DEMO, messages: HELLO, max_tokens: 8 });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json() as ChatCompletion;
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, DEMO);
    assert.equal(body.choices[0]!.message.role, 'assistant');
    assert.equal(typeof body.choices[0]!.message.content, 'string');
    assert.ok(['stop', 'length'].includes(body.choices[0]!.finish_reason));
    assert.ok(body.usage.prompt_tokens > 0);
    assert.ok(body.usage.completion_tokens > 0 && body.usage.completion_tokens <= 8);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('a streaming chat sends role, content and finish chunks, a usage chunk when asked, then [DONE]', async () => {
    const reply = await chat({ model: DEMO, messages: HELLO, max_tokens: 6, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
    assert.equal(reply.status, 200, reply.text);
    assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
    const frames = await parseSse(reply.text);
    assert.equal(frames.at(-1), '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.usage.completion_tokens, 6);
    assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + 6);
    const finish = chunks.at(-2);
    assert.equal(finish.choices[0].finish_reason, 'length');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.ok(text.length > 0, 'the content arrived in deltas');
  });

  test('the same request is served under /engines/llama.cpp/v1, /engines/v1 and /v1 with the same answer', async () => {
    const body = { model: DEMO, messages: HELLO, max_tokens: 12, temperature: 0.8, seed: 99 };
    const texts: string[] = [];
    for (const prefix of ['/engines/llama.cpp/v1', '/engines/v1', '/v1']) {
      const reply = await chat(body, prefix);
      assert.equal(reply.status, 200, `${prefix}: ${reply.text}`);
      texts.push((reply.json() as ChatCompletion).choices[0]!.message.content!);
    }
    assert.equal(new Set(texts).size, 1, JSON.stringify(texts));
    assert.equal((await chat(body, '/engines/other-backend/v1')).status, 404);
  });

  test('a text completion answers with text_completion choices and usage', async () => {
    const reply = await server.request('/v1/completions', { body: { model: DEMO, prompt: 'Once upon a time', max_tokens: 5, ignore_eos: true } });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json();
    assert.equal(body.object, 'text_completion');
    assert.equal(typeof body.choices[0].text, 'string');
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.equal(body.usage.completion_tokens, 5);
  });

  test('embeddings return one vector per input, as wide as the model (64)', async () => {
    const reply = await server.request('/v1/embeddings', { body: { model: DEMO, input: ['hello world', 'something else'] } });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json() as { object: string; data: Array<{ index: number; embedding: number[] }>; usage: { prompt_tokens: number } };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((d) => d.index), [0, 1]);
    for (const { embedding } of body.data) {
      assert.equal(embedding.length, 64);
      assert.ok(embedding.every(Number.isFinite));
    }
    assert.notDeepEqual(body.data[0]!.embedding, body.data[1]!.embedding);
    assert.ok(body.usage.prompt_tokens > 0);
  });

  test('a json_schema response format yields JSON that satisfies the schema', async () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, size: { enum: ['small', 'large'] }, count: { type: 'integer' } },
      required: ['ok', 'size', 'count'],
      additionalProperties: false,
    };
    const reply = await chat({
      model: DEMO,
      messages: [{ role: 'user', content: 'Describe it as JSON.' }],
      max_tokens: 300,
      temperature: 0.7,
      seed: 5,
      response_format: { type: 'json_schema', json_schema: { name: 'thing', strict: true, schema } },
    });
    assert.equal(reply.status, 200, reply.text);
    const choice = (reply.json() as ChatCompletion).choices[0]!;
    assert.equal(choice.finish_reason, 'stop', choice.message.content ?? '');
    const value = JSON.parse(choice.message.content!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value).sort(), ['count', 'ok', 'size']);
    assert.equal(typeof value.ok, 'boolean');
    assert.ok(['small', 'large'].includes(value.size as string));
    assert.ok(Number.isInteger(value.count));
  });

  test('a forced tool call round trip: tool_calls, then the tool result gets a normal reply', async () => {
    const tools = [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } }, required: ['city'] } },
      },
    ];
    const messages: Array<Record<string, unknown>> = [{ role: 'user', content: 'What is the weather in Rome?' }];
    const first = await chat({ model: DEMO, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 100, temperature: 0 });
    assert.equal(first.status, 200, first.text);
    const choice = (first.json() as ChatCompletion).choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls?.[0];
    assert.ok(call, first.text);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.ok(['Paris', 'Rome'].includes((JSON.parse(call.function.arguments) as { city: string }).city));

    messages.push({ role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'sunny, 24 degrees' });
    const second = await chat({ model: DEMO, messages, tools, max_tokens: 8, temperature: 0 });
    assert.equal(second.status, 200, second.text);
    const reply = (second.json() as ChatCompletion).choices[0]!;
    assert.equal(reply.message.role, 'assistant');
    assert.ok(['stop', 'length'].includes(reply.finish_reason), reply.finish_reason);
    assert.equal(typeof reply.message.content, 'string');
  });

  test('the same seed at temperature 0.8 gives the same text twice', async () => {
    const body = { model: DEMO, messages: [{ role: 'user', content: 'Tell me a story.' }], max_tokens: 24, ignore_eos: true, temperature: 0.8, seed: 1234 };
    const first = await chat(body);
    const second = await chat(body);
    assert.equal(first.status, 200, first.text);
    const text = (first.json() as ChatCompletion).choices[0]!.message.content;
    assert.ok(text && text.length > 0);
    assert.equal((second.json() as ChatCompletion).choices[0]!.message.content, text);
  });

  test('two models generate at once while GET /models answers before either finishes', async () => {
    for (const model of [DEMO, SECOND]) {
      assert.equal((await server.request('/engines/v1/chat/completions', { headers: { 'X-Preload-Only': 'true' }, body: { model } })).status, 200);
    }
    // Each generation holds its Worker after two tokens until its file exists: neither can finish before GET /models answers.
    const release = { [DEMO]: path.join(server.dir, 'release-demo'), [SECOND]: path.join(server.dir, 'release-second') };
    const body = { messages: HELLO, max_tokens: 24, ignore_eos: true, temperature: 0.8, seed: 3 };
    const demo = await stream({ ...body, model: DEMO, stop: [`${HOLD_FAULT}${release[DEMO]}`] });
    const second = await stream({ ...body, model: SECOND, stop: [`${HOLD_FAULT}${release[SECOND]}`] });
    try {
      await Promise.all([demo.started, second.started]);
      const models = await server.request('/models');
      assert.equal(models.status, 200);
      assert.deepEqual((models.json() as Array<{ tags: string[] }>).flatMap((m) => m.tags).sort(), ['docker.io/ai/demo:latest', 'docker.io/ai/second:latest']);
      assert.equal(demo.finished || second.finished, false, 'GET /models answered while both generations were in flight');
      assert.deepEqual((await ps()).filter((p) => p.mode === 'completion' && p.in_use === 1).map((p) => p.model_name).sort(), [DEMO, SECOND]);
    } finally {
      await Promise.all(Object.values(release).map((file) => fs.writeFile(file, '')));
    }
    for (const frames of await Promise.all([demo.ended, second.ended])) {
      assert.equal(frames.at(-1), '[DONE]');
      const finish = JSON.parse(frames.at(-2)!);
      assert.equal(finish.choices[0].finish_reason, 'length');
    }
  });

  test('n choices come back as n generations of the same prompt, indexed, with the prompt counted once', async () => {
    const one = (await chat({ model: DEMO, messages: HELLO, max_tokens: 3, ignore_eos: true })).json() as ChatCompletion;
    const reply = await chat({ model: DEMO, messages: HELLO, max_tokens: 3, ignore_eos: true, n: 3, temperature: 0.9, seed: 11 });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json() as ChatCompletion;
    assert.deepEqual(body.choices.map((c) => c.index), [0, 1, 2]);
    assert.ok(body.choices.every((c) => c.finish_reason === 'length' && typeof c.message.content === 'string'));
    assert.equal(body.usage.prompt_tokens, one.usage.prompt_tokens);
    assert.equal(body.usage.completion_tokens, 9);
    const again = (await chat({ model: DEMO, messages: HELLO, max_tokens: 3, ignore_eos: true, n: 3, temperature: 0.9, seed: 11 })).json() as ChatCompletion;
    assert.deepEqual(again.choices.map((c) => c.message.content), body.choices.map((c) => c.message.content), 'the same seed gives the same choices');
  });

  test('streamed n choices arrive one after another under their indexes, then one usage chunk and [DONE]', async () => {
    const live = await stream({ model: DEMO, messages: HELLO, max_tokens: 2, ignore_eos: true, n: 2, stream_options: { include_usage: true } });
    const frames = await live.ended;
    assert.equal(frames.at(-1), '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f) as { choices: Array<{ index: number; finish_reason: string | null }>; usage: { completion_tokens: number } | null });
    const finishes = chunks.flatMap((c) => c.choices.filter((choice) => choice.finish_reason !== null).map((choice) => choice.index));
    assert.deepEqual(finishes, [0, 1]);
    const usage = chunks.filter((c) => c.usage !== null);
    assert.equal(usage.length, 1);
    assert.equal(usage[0]!.usage!.completion_tokens, 4);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'every other chunk says usage: null');
  });

  test('a client that disconnects mid-stream stops its generation and frees the model', async () => {
    // This generation waits after two tokens until it is cancelled: only the disconnect can end it.
    const runaway = await stream({ model: DEMO, messages: HELLO, max_tokens: -1, ignore_eos: true, stop: [AWAIT_CANCEL_FAULT] });
    await runaway.started;
    runaway.destroy();
    await runaway.ended;
    // With parallel 1 the model's one sequence is the runaway's until its generation has ended.
    const next = await chat({ model: DEMO, messages: HELLO, max_tokens: 2 });
    assert.equal(next.status, 200, next.text);
    await waitUntil('ai/demo idle', async () => (await ps()).some((p) => p.model_name === DEMO && p.in_use === 0));
  });

  test('a request with keep_alive "1s" unloads its model once idle', async () => {
    const reply = await chat({ model: SECOND, messages: HELLO, max_tokens: 2, keep_alive: '1s' });
    assert.equal(reply.status, 200, reply.text);
    await waitUntil('ai/second unloaded', async () => !(await ps()).some((p) => p.model_name === SECOND));
    assert.ok((await ps()).some((p) => p.model_name === DEMO), 'the other model stays loaded');
  });

  test('X-Preload-Only: true loads the model and answers 200 with an empty body', async () => {
    assert.equal((await ps()).some((p) => p.model_name === SECOND), false);
    const reply = await server.request('/engines/v1/chat/completions', { headers: { 'X-Preload-Only': 'true' }, body: { model: SECOND, messages: [] } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, '');
    assert.ok((await ps()).some((p) => p.model_name === SECOND && p.in_use === 0));
  });

  test('GET /metrics counts chat requests and tokens', async () => {
    const reply = await server.request('/metrics');
    assert.equal(reply.status, 200);
    const value = (pattern: RegExp) => {
      const line = reply.text.split('\n').find((l) => pattern.test(l));
      assert.ok(line, `no metric line matches ${pattern}:\n${reply.text}`);
      return Number(line.split(' ').at(-1));
    };
    assert.ok(value(/^model_runner_http_requests_total\{.*route="\/v1\/chat\/completions".*status="200"/) >= 10);
    // Labelled with the model's ID, not the name the requests used.
    assert.ok(value(new RegExp(`^model_runner_prompt_tokens_total\\{.*model="${demoId}"`)) > 0);
    assert.ok(value(new RegExp(`^model_runner_generated_tokens_total\\{.*model="${demoId}"`)) > 0);
  });
});
