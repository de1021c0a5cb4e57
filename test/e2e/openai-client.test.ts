/**
 * The official `openai` client, unchanged, on the compiled server's plainest routes: chat
 * (whole and streamed), legacy completions and embeddings (which the client asks for as base64
 * unless told otherwise, and decodes itself). The other OpenAI routes and fields have their own
 * files: Responses, log-probabilities, tool_choice, reasoning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import { startDemoServer } from '../support/demo-server.js';
import { openaiClient } from '../support/sdk-clients.js';
import type { ServerProcess } from '../support/server-harness.js';

const DEMO = 'ai/demo';
/** The demo model's embedding width (the tiny preset). */
const WIDTH = 64;

describe('the official openai client against the compiled server', () => {
  let server: ServerProcess;
  let openai: OpenAI;

  before(async () => {
    ({ server } = await startDemoServer({ args: ['--port', '0', '--threads', '1'] }));
    openai = openaiClient(server);
  });

  after(async () => {
    await server?.dispose();
  });

  test('chat.completions.create answers whole and streamed, with the same greedy text', async () => {
    const request = { model: DEMO, messages: [{ role: 'user' as const, content: 'Say something.' }], max_tokens: 6, temperature: 0 };
    const whole = await openai.chat.completions.create(request);
    assert.equal(whole.object, 'chat.completion');
    assert.equal(whole.choices[0]!.message.role, 'assistant');
    assert.equal(whole.usage?.completion_tokens, 6);
    let streamed = '';
    for await (const chunk of await openai.chat.completions.create({ ...request, stream: true })) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, whole.choices[0]!.message.content);
  });

  test('completions.create answers a prompt', async () => {
    const completion = await openai.completions.create({ model: DEMO, prompt: 'Once upon a time', max_tokens: 4, temperature: 0 });
    assert.equal(completion.object, 'text_completion');
    assert.equal(completion.usage?.completion_tokens, 4);
    assert.equal(typeof completion.choices[0]!.text, 'string');
  });

  test('embeddings.create returns one vector per input, decoded by the client from base64 as from floats', async () => {
    const input = ['hello world', 'something else'];
    const packed = await openai.embeddings.create({ model: DEMO, input });
    const plain = await openai.embeddings.create({ model: DEMO, input, encoding_format: 'float' });
    assert.equal(packed.data.length, 2);
    for (const [i, item] of packed.data.entries()) {
      assert.equal(item.index, i);
      assert.equal(item.embedding.length, WIDTH);
      // float32 on the wire as base64, JavaScript numbers as JSON: equal to float32 precision.
      for (const [j, value] of item.embedding.entries()) assert.ok(Math.abs(value - plain.data[i]!.embedding[j]!) < 1e-6, `input ${i}, dimension ${j}`);
    }
    assert.notDeepEqual(plain.data[0]!.embedding, plain.data[1]!.embedding, 'different inputs, different vectors');
    assert.ok(packed.usage.prompt_tokens > 0);
  });
});
