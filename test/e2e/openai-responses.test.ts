/**
 * The OpenAI Responses API through the compiled server, judged by the official `openai` client
 * unchanged: plain and streamed responses, conversations continued by previous_response_id, the
 * stored responses' GET and DELETE, a forced function call, a client that leaves mid-stream,
 * and the error shapes. Two tiny generated models (different weights), each with a context large
 * enough for tool prompts; a generation that fills it runs for many seconds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startDemoServer } from '../support/demo-server.js';
import { openaiClient } from '../support/sdk-clients.js';
import type { ServerProcess } from '../support/server-harness.js';
import { generateTinyGguf, packageIntoStore } from './support/fixtures.js';
import { waitUntil } from './support/wait.js';

const DEMO = 'ai/demo';
const SECOND = 'ai/second';
const SERVER_ARGS = ['--port', '0', '--threads', '2', '--max-loaded-models', '2', '--parallel', '1', '--context-size', '16384'];

describe('the OpenAI Responses API in the compiled server', () => {
  let server: ServerProcess;
  let client: OpenAI;

  before(async () => {
    ({ server } = await startDemoServer({
      args: SERVER_ARGS,
      prepare: async (fresh) => packageIntoStore(await generateTinyGguf(fresh.dir, 2), fresh.modelsPath, SECOND),
    }));
    client = openaiClient(server);
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('responses.create answers a string input with one completed message and consistent usage', async () => {
    const response = await client.responses.create({ model: DEMO, input: 'Hello, how are you?', max_output_tokens: 8, temperature: 0, metadata: { run: 'e2e' } });
    assert.match(response.id, /^resp_/);
    assert.equal(response.object, 'response');
    assert.ok(['completed', 'incomplete'].includes(response.status!), response.status);
    assert.equal(response.model, DEMO);
    const message = response.output[0]!;
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.content[0]!.type, 'output_text');
    assert.equal(typeof response.output_text, 'string');
    const usage = response.usage!;
    assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0 && usage.output_tokens <= 8, JSON.stringify(usage));
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert.equal(usage.output_tokens_details.reasoning_tokens, 0);
    assert.deepEqual(response.metadata, { run: 'e2e' });
    if (response.status === 'incomplete') assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
  });

  test('a streamed response sends typed events in order and ends with the complete response', async () => {
    const stream = await client.responses.create({ model: DEMO, input: [{ role: 'user', content: [{ type: 'input_text', text: 'Tell me a story.' }] }], max_output_tokens: 6, stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    const last = events.at(-1)!;
    assert.ok(last.type === 'response.completed' || last.type === 'response.incomplete', last.type);
    assert.deepEqual(types.slice(-4, -1), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done']);
    assert.ok(types.slice(4, -4).every((t) => t === 'response.output_text.delta'), types.join());
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    const final = last.response;
    const message = final.output[0]!;
    assert.ok(message.type === 'message' && message.content[0]!.type === 'output_text');
    assert.equal(message.content[0]!.text, deltas);
    // A delta carries at least one token; a character split across tokens waits for the rest.
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length <= final.usage!.output_tokens);
    assert.equal((await client.responses.retrieve(final.id)).id, final.id, 'a streamed response is stored too');
  });

  test('previous_response_id continues the stored conversation: the second turn reads the first one in full', async () => {
    const first = await client.responses.create({ model: DEMO, input: 'My name is Ada.', max_output_tokens: 6, temperature: 0 });
    const followUp = 'What is my name?';
    const alone = await client.responses.create({ model: DEMO, input: followUp, max_output_tokens: 2, store: false });
    const second = await client.responses.create({ model: DEMO, input: followUp, previous_response_id: first.id, max_output_tokens: 2 });
    assert.equal(second.previous_response_id, first.id);
    // The first turn's prompt and reply now precede the question (the template adds a few tokens more).
    assert.ok(
      second.usage!.input_tokens >= alone.usage!.input_tokens + first.usage!.input_tokens + first.usage!.output_tokens - 8,
      JSON.stringify({ first: first.usage, alone: alone.usage, second: second.usage }),
    );
    assert.ok(second.usage!.input_tokens > alone.usage!.input_tokens + first.usage!.input_tokens / 2);
  });

  test('responses.retrieve returns the stored response and responses.delete removes it', async () => {
    const created = await client.responses.create({ model: DEMO, input: 'Hi', max_output_tokens: 3 });
    const fetched = await client.responses.retrieve(created.id);
    assert.equal(fetched.id, created.id);
    assert.deepEqual(fetched.output, created.output);
    assert.deepEqual(fetched.usage, created.usage);
    const raw = await server.request(`/engines/llama.cpp/v1/responses/${created.id}`, { method: 'DELETE' });
    assert.deepEqual(raw.json(), { id: created.id, object: 'response', deleted: true });
    await assert.rejects(client.responses.retrieve(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(client.responses.delete(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    const metrics = (await server.request('/metrics')).text;
    assert.match(metrics, /route="\/v1\/responses\/\{id\}",method="DELETE",status="404"/);
    assert.match(metrics, /route="\/v1\/responses",method="POST",status="200"/);
  });

  test('a response made with store:false cannot be retrieved or continued', async () => {
    const created = await client.responses.create({ model: DEMO, input: 'Hi', max_output_tokens: 2, store: false });
    await assert.rejects(client.responses.retrieve(created.id), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.type, 'not_found_error');
      assert.match(err.message, /not found/);
      return true;
    });
    await assert.rejects(client.responses.create({ model: DEMO, input: 'again', previous_response_id: created.id }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.param, 'previous_response_id');
      return true;
    });
  });

  test('tool_choice naming a function forces a function_call item with JSON arguments, and its output continues the turn', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        description: 'Current weather of a city',
        parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } }, required: ['city'] },
        strict: true,
      },
    ];
    const first = await client.responses.create({ model: DEMO, input: 'What is the weather in Rome?', tools, tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 100, temperature: 0 });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call', JSON.stringify(first.output));
    assert.equal(call.name, 'get_weather');
    assert.ok(['Paris', 'Rome'].includes((JSON.parse(call.arguments) as { city: string }).city));
    assert.match(call.id!, /^fc_/);
    assert.deepEqual(first.tool_choice, { type: 'function', name: 'get_weather' });

    const second = await client.responses.create({
      model: DEMO,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 24 degrees' }],
      tools,
      max_output_tokens: 4,
    });
    assert.ok(second.usage!.input_tokens > first.usage!.input_tokens, 'the call and its result are part of the prompt');
  });

  test('a streamed forced call sends its arguments as function_call_arguments events', async () => {
    const stream = await client.responses.create({
      model: DEMO,
      input: 'Weather in Paris?',
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { enum: ['Paris'] } }, required: ['city'] }, strict: true }],
      tool_choice: 'required',
      max_output_tokens: 100,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const start = types.indexOf('response.function_call_arguments.delta');
    assert.ok(start > 0, types.join());
    assert.equal(types[start - 1], 'response.output_item.added');
    assert.deepEqual(types.slice(start + 1, start + 3), ['response.function_call_arguments.done', 'response.output_item.done']);
    assert.equal(types.at(-1), 'response.completed');
  });

  test('errors come in OpenAI shape: bad JSON, an unknown model, a bad field and a prompt past the context', async () => {
    const badJson = await server.request('/v1/responses', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    assert.equal(badJson.status, 400, badJson.text);
    assert.equal((badJson.json() as { error: { type: string } }).error.type, 'invalid_request_error');

    await assert.rejects(client.responses.create({ model: 'ai/missing', input: 'x' }), (err: unknown) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(client.responses.create({ model: DEMO, input: 'x', max_output_tokens: 0 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.param, 'max_output_tokens');
      return true;
    });
    await assert.rejects(client.responses.create({ model: DEMO, input: 'hello world '.repeat(6000), max_output_tokens: 3 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.type, 'exceed_context_size_error');
      return true;
    });
    const unknownBackend = await server.request('/engines/other/v1/responses/resp_x');
    assert.equal(unknownBackend.status, 404);
  });

  test('a client that leaves mid-stream stops its generation and frees the model', async () => {
    const ps = async () => (await server.request('/engines/ps')).json() as Array<{ model_name: string; in_use: number }>;
    // Unbounded, this generation would fill the whole 16K context: far longer than the yardstick below.
    const runaway = await client.responses.create({ model: DEMO, input: 'Hello', stream: true, ignore_eos: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
    for await (const event of runaway) if (event.type === 'response.output_text.delta') break;
    runaway.controller.abort();

    // A bounded generation on the other model as a yardstick: with --parallel 1, a request to
    // ai/demo would queue behind the runaway if it were still going.
    const yardstick = await client.responses.create({ model: SECOND, input: 'Hello', stream: true, max_output_tokens: 1500, ignore_eos: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
    const events = yardstick[Symbol.asyncIterator]();
    assert.equal((await events.next()).value?.type, 'response.created');
    let yardstickDone = false;
    const drained = (async () => {
      let last: string | undefined;
      for (let next = await events.next(); !next.done; next = await events.next()) last = next.value.type;
      yardstickDone = true;
      return last;
    })();
    const next = await client.responses.create({ model: DEMO, input: 'Hi', max_output_tokens: 2 });
    assert.equal(next.object, 'response');
    assert.equal(yardstickDone, false, 'ai/demo served a new request while a 1500-token generation was still running');
    await waitUntil('ai/demo idle', async () => (await ps()).some((p) => p.model_name === DEMO && p.in_use === 0));
    assert.equal(await drained, 'response.incomplete');
  });
});
