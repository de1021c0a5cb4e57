/**
 * Anthropic's Messages API through the compiled server, judged by the official
 * @anthropic-ai/sdk unchanged, reaching the server over its TCP port. The model is a tiny random
 * one: the tests check shapes, event order, stop reasons and token counts, not meaning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startDemoServer } from '../support/demo-server.js';
import { anthropicClient } from '../support/sdk-clients.js';
import type { ServerProcess } from '../support/server-harness.js';

/**
 * The Messages API takes temperature, top_p and top_k, which this SDK's types no longer list for
 * every model; the SDK sends them unchanged, so a request that sets them is typed through this.
 */
type Sampled = Anthropic.MessageCreateParamsNonStreaming;

const DEMO = 'ai/demo';
/** Tool prompts need far more than the tiny model's packaged context. */
const SERVER_ARGS = ['--port', '0', '--threads', '1', '--parallel', '1', '--context-size', '16384'];
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather of a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'] },
};

describe('the Anthropic Messages API in the compiled server', () => {
  let server: ServerProcess;
  let client: Anthropic;

  before(async () => {
    ({ server } = await startDemoServer({ args: SERVER_ARGS }));
    client = anthropicClient(server);
  });

  after(async () => {
    await server?.dispose();
  });

  test('messages.create answers a message with a text block, a stop reason and usage', async () => {
    const message = await client.messages.create({
      model: DEMO,
      max_tokens: 6,
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'user', content: 'How are you?' },
      ],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['\n\n\n'],
      metadata: { user_id: 'someone' },
    } as Sampled);
    assert.match(message.id, /^msg_/);
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, DEMO);
    assert.equal(message.content[0]?.type, 'text');
    assert.ok(['end_turn', 'max_tokens', 'stop_sequence'].includes(message.stop_reason!), String(message.stop_reason));
    assert.ok(message.usage.input_tokens > 0);
    assert.ok(message.usage.output_tokens > 0 && message.usage.output_tokens <= 6);
    assert.equal(typeof message.usage.cache_read_input_tokens, 'number');
  });

  test('a generation cut by max_tokens says max_tokens', async () => {
    const message = await client.messages.create({ model: DEMO, max_tokens: 1, messages: [{ role: 'user', content: 'Tell me a long story.' }] });
    assert.equal(message.usage.output_tokens, 1);
    assert.ok(['max_tokens', 'end_turn'].includes(message.stop_reason!));
  });

  test('a stop sequence that ends the text is named, with the stop_sequence stop reason, whole and streamed', async () => {
    // Stop on every character the tiny model's text is made of, so some sequence surely matches.
    const stops = [...'abcdefghijklmnopqrstuvwxyz .,!?'];
    const body = { model: DEMO, max_tokens: 64, temperature: 0, stop_sequences: stops, messages: [{ role: 'user' as const, content: 'Hello' }] };
    const message = await client.messages.create(body);
    assert.equal(message.stop_reason, 'stop_sequence', JSON.stringify(message));
    assert.ok(stops.includes(message.stop_sequence!), String(message.stop_sequence));
    const streamed = await client.messages.stream(body).finalMessage();
    assert.equal(streamed.stop_reason, 'stop_sequence');
    assert.equal(streamed.stop_sequence, message.stop_sequence);
  });

  test('messages.stream sends the events in order and the SDK assembles the final message', async () => {
    const stream = client.messages.stream({ model: DEMO, max_tokens: 5, messages: [{ role: 'user', content: 'Count to ten.' }] });
    const names: string[] = [];
    for await (const event of stream) names.push(event.type);
    const final = await stream.finalMessage();
    assert.equal(names[0], 'message_start');
    assert.equal(names.at(-1), 'message_stop');
    assert.equal(names.at(-2), 'message_delta');
    assert.ok(names.includes('content_block_start') && names.includes('content_block_stop'), names.join(','));
    assert.ok(names.indexOf('content_block_start') < names.indexOf('content_block_stop'));
    assert.equal(final.content[0]?.type, 'text');
    assert.ok(final.usage.output_tokens > 0 && final.usage.output_tokens <= 5);
    assert.ok(final.stop_reason !== null);
  });

  test('a forced tool call round trip: tool_use, then a tool_result turn gets a reply', async () => {
    const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Rome?' };
    const first = await client.messages.create({ model: DEMO, max_tokens: 100, temperature: 0, tools: [WEATHER], tool_choice: { type: 'tool', name: 'get_weather' }, messages: [question] } as Sampled);
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use', JSON.stringify(first.content));
    assert.equal(use.name, 'get_weather');
    assert.match(use.id, /^toolu_/);
    assert.ok(['Paris', 'Rome'].includes((use.input as { city: string }).city));

    const second = await client.messages.create({
      model: DEMO,
      max_tokens: 8,
      temperature: 0,
      tools: [WEATHER],
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 24 degrees' }] }],
    } as Sampled);
    assert.equal(second.role, 'assistant');
    assert.ok(second.stop_reason !== null);
  });

  test('tool_choice any forces a call, and the stream carries it as input_json_delta', async () => {
    const stream = client.messages.stream({ model: DEMO, max_tokens: 100, temperature: 0, tools: [WEATHER], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'Weather?' }] });
    const deltas: string[] = [];
    for await (const event of stream) if (event.type === 'content_block_delta') deltas.push(event.delta.type);
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.ok(deltas.includes('input_json_delta'), deltas.join(','));
    const use = final.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use' && use.name === 'get_weather');
  });

  test('countTokens counts the templated prompt, and a longer conversation counts more', async () => {
    const short = await client.messages.countTokens({ model: DEMO, messages: [{ role: 'user', content: 'Hi' }] });
    const long = await client.messages.countTokens({ model: DEMO, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi there, how is the weather today?' }] });
    assert.ok(short.input_tokens > 0);
    assert.ok(long.input_tokens > short.input_tokens);
    const used = await client.messages.create({ model: DEMO, max_tokens: 1, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(used.usage.input_tokens + (used.usage.cache_read_input_tokens ?? 0), short.input_tokens);
  });

  test('an unknown model is a 404 not_found_error', async () => {
    await assert.rejects(client.messages.create({ model: 'ai/nothing-here', max_tokens: 4, messages: [{ role: 'user', content: 'Hi' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError, String(err));
      assert.equal((err.error as { type: string; error: { type: string } }).error.type, 'not_found_error');
      return true;
    });
  });

  test('an image block is a 400 invalid_request_error saying images are not supported', async () => {
    const image = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0KGgo=' } };
    await assert.rejects(client.messages.create({ model: DEMO, max_tokens: 4, messages: [{ role: 'user', content: [image] }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError, String(err));
      const body = err.error as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /image.*not supported/);
      return true;
    });
  });

  test('a prompt longer than the context is a 400 invalid_request_error, streaming or not', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'word '.repeat(20_000) }];
    for (const stream of [false, true]) {
      await assert.rejects(client.messages.create({ model: DEMO, max_tokens: 4, messages, stream }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal((err.error as { error: { type: string } }).error.type, 'invalid_request_error');
        return true;
      });
    }
  });

  test('a body that is not JSON is a 400 invalid_request_error, on every path prefix', async () => {
    for (const prefix of ['/v1', '/engines/v1', '/engines/llama.cpp/v1']) {
      const reply = await server.tcpRequest(`${prefix}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
      assert.equal(reply.status, 400, prefix);
      const body = reply.json() as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
    }
  });

  test('max_tokens is required, as Anthropic requires it', async () => {
    const reply = await server.tcpRequest('/v1/messages', { method: 'POST', body: { model: DEMO, messages: [{ role: 'user', content: 'Hi' }] } });
    assert.equal(reply.status, 400);
    assert.match((reply.json() as { error: { message: string } }).error.message, /max_tokens/);
  });
});
