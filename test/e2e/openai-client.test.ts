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

  test("every answer carries llama-server's timings (whole, and in the last chunk of a stream with and without usage), counting what usage counts", async () => {
    type WithTimings = { timings?: Record<string, number> };
    const check = (timings: Record<string, number> | undefined, usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } | null } | undefined, what: string) => {
      assert.ok(timings && usage, `${what}: timings and usage`);
      assert.equal(timings.prompt_n! + timings.cache_n!, usage.prompt_tokens, `${what}: prompt_n + cache_n is the prompt`);
      assert.equal(timings.cache_n, usage.prompt_tokens_details?.cached_tokens ?? 0, `${what}: cache_n is cached_tokens`);
      assert.equal(timings.predicted_n, usage.completion_tokens, `${what}: predicted_n is the completion`);
      assert.ok(timings.prompt_ms! > 0 && timings.predicted_ms! > 0, `${what}: both phases took time`);
      assert.ok(Math.abs(timings.prompt_per_second! - (timings.prompt_n! * 1000) / timings.prompt_ms!) < 1e-6, `${what}: prompt rate`);
      assert.ok(Math.abs(timings.predicted_per_second! - ((timings.predicted_n! - 1) * 1000) / timings.predicted_ms!) < 1e-6, `${what}: decode rate over the decode steps`);
    };
    const request = { model: DEMO, messages: [{ role: 'user' as const, content: 'Tell me about timings.' }], max_tokens: 5, temperature: 0 };
    const whole = await openai.chat.completions.create(request);
    check((whole as WithTimings).timings, whole.usage, 'whole chat');
    const text = await openai.completions.create({ model: DEMO, prompt: 'Timings of a completion', max_tokens: 3, temperature: 0 });
    check((text as WithTimings).timings, text.usage, 'whole completion');

    const lastChunk = async (includeUsage: boolean) => {
      const chunks = [];
      for await (const chunk of await openai.chat.completions.create({ ...request, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) })) chunks.push(chunk);
      assert.ok(chunks.slice(0, -1).every((c) => (c as WithTimings).timings === undefined), 'only the last chunk has timings');
      return chunks.at(-1)!;
    };
    const withUsage = await lastChunk(true);
    assert.deepEqual(withUsage.choices, [], 'the usage chunk is last');
    check((withUsage as WithTimings).timings, withUsage.usage ?? undefined, 'stream with usage');
    const plain = await lastChunk(false);
    assert.equal(plain.choices[0]?.finish_reason, 'length', 'the finish chunk is last');
    const timings = (plain as WithTimings).timings;
    // The same prompt again: the cache held it, so its tokens count as cached, not evaluated.
    check(timings, { prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: 5, prompt_tokens_details: { cached_tokens: timings?.cache_n } }, 'stream without usage');
    assert.ok(timings!.cache_n! > 0, 'the repeated prompt came from the cache');
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
