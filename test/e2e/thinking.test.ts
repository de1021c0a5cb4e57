/**
 * A reasoning model's thinking, split from its answer, as the official clients read it: Ollama's
 * `think` (message.thinking, generate's thinking, streamed too), OpenAI's reasoning_content and
 * Anthropic's thinking blocks. The model is generated with `generate-model --thinking`: its
 * template opens `<think>` where the reply starts, and greedy decoding writes a few words,
 * `</think>`, then more. The same request with reasoning_format "none" gives the reply as
 * generated; what each dialect returns must be exactly that reply cut at the first `</think>`.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Anthropic from '@anthropic-ai/sdk';
import type { Ollama } from 'ollama';
import OpenAI from 'openai';
import { startDemoServer } from '../support/demo-server.js';
import { anthropicClient, ollamaClient, openaiClient } from '../support/sdk-clients.js';
import { runCliOk, type ServerProcess } from '../support/server-harness.js';
import { packageIntoStore } from './support/fixtures.js';

const THINKER = 'ai/thinker';
const DEMO = 'ai/demo';
const MESSAGES = [{ role: 'user' as const, content: 'hi' }];
/** Enough tokens for the generated model to reason, close the section and answer. */
const MAX_TOKENS = 16;

/**
 * The expected split of a raw reply that starts inside the thinking section: the reasoning
 * trimmed, the answer as it follows `</think>` (llama-server) or with its leading whitespace
 * dropped (Ollama).
 */
function split(raw: string): { thinking: string; content: string; trimmed: string } {
  const at = raw.indexOf('</think>');
  assert.ok(at > 0, `the generated model closes its reasoning within ${MAX_TOKENS} tokens: ${JSON.stringify(raw)}`);
  const content = raw.slice(at + '</think>'.length);
  return { thinking: raw.slice(0, at).trim(), content, trimmed: content.trimStart() };
}

describe('reasoning models: thinking apart from the answer', () => {
  let server: ServerProcess;
  let ollama: Ollama;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let expected: { thinking: string; content: string; trimmed: string };
  /** Tokens the chat completion counted as reasoning: the same request through Responses counts the same. */
  let completionReasoningTokens: number;

  before(async () => {
    ({ server } = await startDemoServer({
      args: ['--port', '0', '--threads', '2', '--max-loaded-models', '2', '--parallel', '1'],
      prepare: async (fresh) => {
        const gguf = path.join(fresh.dir, 'thinker.gguf');
        await runCliOk(['generate-model', '--preset', 'tiny', '--type', 'q8_0', '--thinking', '--out', gguf]);
        await packageIntoStore(gguf, fresh.modelsPath, THINKER);
      },
    }));
    ollama = ollamaClient(server);
    openai = openaiClient(server);
    anthropic = anthropicClient(server);
    // The reply as generated, thinking markers included (llama-server's reasoning_format "none").
    const raw = await openai.chat.completions.create({ model: THINKER, messages: MESSAGES, temperature: 0, max_tokens: MAX_TOKENS, reasoning_format: 'none' } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const message = raw.choices[0]!.message as { content: string; reasoning_content?: string };
    assert.equal(message.reasoning_content, undefined);
    expected = split(message.content);
    assert.ok(expected.thinking !== '' && expected.trimmed !== '', JSON.stringify(expected));
    assert.notEqual(expected.content, expected.trimmed, 'the answer starts with a space, which tells the two dialects apart');
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('ollama.chat with think returns the reasoning in message.thinking and the answer in content', async () => {
    const reply = await ollama.chat({ model: THINKER, messages: MESSAGES, think: true, options: { temperature: 0, num_predict: MAX_TOKENS } });
    assert.equal(reply.message.thinking, expected.thinking);
    assert.equal(reply.message.content, expected.trimmed);
    assert.ok(!reply.message.content.startsWith('<think>') && !reply.message.thinking!.includes('</think>'));
  });

  test('a streamed ollama.chat with think sends every thinking chunk before the first content chunk', async () => {
    const stream = await ollama.chat({ model: THINKER, messages: MESSAGES, think: true, stream: true, options: { temperature: 0, num_predict: MAX_TOKENS } });
    let thinking = '';
    let content = '';
    for await (const chunk of stream) {
      if (chunk.message.thinking) {
        assert.equal(content, '', 'no thinking after the answer has started');
        thinking += chunk.message.thinking;
      }
      content += chunk.message.content;
    }
    assert.equal(thinking, expected.thinking);
    assert.equal(content, expected.trimmed);
  });

  test('ollama.generate with think returns thinking beside response, whole and streamed', async () => {
    const whole = await ollama.generate({ model: THINKER, prompt: 'hi', think: true, options: { temperature: 0, num_predict: MAX_TOKENS } });
    assert.equal(whole.thinking, expected.thinking);
    assert.equal(whole.response, expected.trimmed);
    let thinking = '';
    let response = '';
    for await (const chunk of await ollama.generate({ model: THINKER, prompt: 'hi', think: true, stream: true, options: { temperature: 0, num_predict: MAX_TOKENS } })) {
      thinking += chunk.thinking ?? '';
      response += chunk.response;
    }
    assert.deepEqual({ thinking, response }, { thinking: expected.thinking, response: expected.trimmed });
  });

  test('think false writes the reasoning section closed and empty into the prompt, and no thinking comes back', async () => {
    const on = await ollama.chat({ model: THINKER, messages: MESSAGES, think: true, options: { temperature: 0, num_predict: 1 } });
    const off = await ollama.chat({ model: THINKER, messages: MESSAGES, think: false, options: { temperature: 0, num_predict: MAX_TOKENS } });
    assert.equal(off.message.thinking, undefined);
    // "<think>\n" opens the reply when thinking; "<think>\n\n</think>\n\n" replaces it when not.
    assert.ok(off.prompt_eval_count > on.prompt_eval_count, `${off.prompt_eval_count} > ${on.prompt_eval_count}`);
    assert.notEqual(off.message.content, expected.trimmed);
  });

  test("apply-template ends where the reply starts, inside the open reasoning section, as llama-server renders the generation prompt", async () => {
    const applied = await server.request('/engines/llama.cpp/apply-template', { body: { model: THINKER, messages: MESSAGES } });
    assert.equal(applied.status, 200, applied.text);
    assert.equal((applied.json() as { prompt: string }).prompt, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n');
  });

  test('ollama.show lists thinking among the capabilities of the reasoning model only', async () => {
    assert.deepEqual((await ollama.show({ model: THINKER })).capabilities, ['completion', 'thinking']);
    assert.ok(!(await ollama.show({ model: DEMO })).capabilities.includes('thinking'));
  });

  test('think on a model without a thinking section is refused with a 400 naming the model', async () => {
    await assert.rejects(ollama.chat({ model: DEMO, messages: MESSAGES, think: true }), (err: Error & { status_code?: number }) => {
      assert.equal(err.status_code, 400);
      assert.equal(err.message, `"${DEMO}" does not support thinking`);
      return true;
    });
    const plain = await ollama.chat({ model: DEMO, messages: MESSAGES, options: { temperature: 0, num_predict: 2 } });
    assert.equal(plain.message.thinking, undefined);
  });

  test('OpenAI chat completions carry the reasoning as reasoning_content, in the message and in stream deltas', async () => {
    const params = { model: THINKER, messages: MESSAGES, temperature: 0, max_tokens: MAX_TOKENS };
    const completion = await openai.chat.completions.create(params);
    const message = completion.choices[0]!.message as { content: string; reasoning_content?: string };
    assert.deepEqual({ thinking: message.reasoning_content, content: message.content }, { thinking: expected.thinking, content: expected.content });
    const reasoningTokens = completion.usage!.completion_tokens_details!.reasoning_tokens!;
    completionReasoningTokens = reasoningTokens;
    assert.ok(reasoningTokens > 0 && reasoningTokens < completion.usage!.completion_tokens, JSON.stringify(completion.usage));
    let thinking = '';
    let content = '';
    for await (const chunk of await openai.chat.completions.create({ ...params, stream: true })) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      if (delta?.reasoning_content) {
        assert.equal(content, '', 'no reasoning after the answer has started');
        thinking += delta.reasoning_content;
      }
      content += delta?.content ?? '';
    }
    assert.deepEqual({ thinking, content }, { thinking: expected.thinking, content: expected.content });
  });

  test('the Responses API returns a reasoning item before the message, whole and streamed, and takes it back as input', async () => {
    const params = { model: THINKER, input: 'hi', temperature: 0, max_output_tokens: MAX_TOKENS };
    const response = await openai.responses.create(params);
    assert.deepEqual(
      response.output.map((item) => item.type),
      ['reasoning', 'message'],
    );
    const reasoning = response.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.deepEqual(reasoning.content, [{ type: 'reasoning_text', text: expected.thinking }]);
    assert.equal(response.output_text, expected.content);
    assert.equal(response.usage!.output_tokens_details.reasoning_tokens, completionReasoningTokens);
    const streamed = await openai.responses.stream(params).finalResponse();
    assert.deepEqual(
      streamed.output.map((item) => (item.type === 'reasoning' ? item.content : item.type === 'message' ? item.content.map((c) => (c.type === 'output_text' ? c.text : '')) : [])),
      [[{ type: 'reasoning_text', text: expected.thinking }], [expected.content]],
    );
    // A client that sends the output back as input (reasoning item included) continues the conversation.
    const next = await openai.responses.create({ ...params, input: [{ role: 'user', content: 'hi' }, ...response.output.map((item) => ({ ...item }) as OpenAI.Responses.ResponseInputItem), { role: 'user', content: 'and?' }] });
    assert.equal(next.status === 'completed' || next.status === 'incomplete', true);
  });

  test('Anthropic messages with thinking enabled start with a thinking block, whole and streamed', async () => {
    const params = { model: THINKER, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0, thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const message = await anthropic.messages.create(params);
    assert.deepEqual(
      message.content.map((b) => b.type),
      ['thinking', 'text'],
    );
    assert.equal((message.content[0] as Anthropic.ThinkingBlock).thinking, expected.thinking);
    assert.equal((message.content[1] as Anthropic.TextBlock).text, expected.content);
    const streamed = await anthropic.messages.stream(params).finalMessage();
    assert.deepEqual(streamed.content, message.content);
  });
});
