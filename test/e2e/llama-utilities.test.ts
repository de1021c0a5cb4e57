/**
 * llama-server's utility routes (/tokenize, /detokenize, /props) through the compiled server, on
 * the generated demo model loaded by a real Worker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import type { ServerProcess } from '../support/server-harness.js';

const DEMO = 'ai/demo';
const SERVER_ARGS = ['--threads', '1', '--parallel', '1', '--context-size', '2048', '--log-level', 'warn'];
const TEXT = 'Hello, how are you?';

describe("llama-server's utility routes in the compiled server", () => {
  let server: ServerProcess;

  before(async () => {
    ({ server } = await startDemoServer({ args: SERVER_ARGS }));
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('a request without a model while none is loaded is refused, naming the model parameter', async () => {
    const reply = await server.request('/engines/llama.cpp/tokenize', { body: { content: TEXT } });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json().error.message, /model is required/);
  });

  test('tokenize then detokenize gives the text back, under every prefix', async () => {
    for (const prefix of ['/engines/llama.cpp', '/engines/llama.cpp/v1', '/engines/v1', '/v1']) {
      const tokenized = await server.request(`${prefix}/tokenize`, { body: { model: DEMO, content: TEXT } });
      assert.equal(tokenized.status, 200, tokenized.text);
      const { tokens } = tokenized.json() as { tokens: number[] };
      assert.ok(tokens.length > 0 && tokens.every((t) => Number.isInteger(t)));
      const detokenized = await server.request(`${prefix}/detokenize`, { body: { model: DEMO, tokens } });
      assert.equal(detokenized.status, 200, detokenized.text);
      assert.deepEqual(detokenized.json(), { content: TEXT });
    }
  });

  test('with_pieces pairs each token ID with its text, and the pieces join into the content', async () => {
    const plain = (await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: TEXT } })).json() as { tokens: number[] };
    const reply = await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: TEXT, with_pieces: true } });
    assert.equal(reply.status, 200, reply.text);
    const { tokens } = reply.json() as { tokens: Array<{ id: number; piece: string }> };
    assert.deepEqual(tokens.map((t) => t.id), plain.tokens);
    assert.equal(tokens.map((t) => t.piece).join(''), TEXT);
  });

  test('add_special follows the model: the demo model declares no BOS to add, as llama-server would honour', async () => {
    const without = (await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: TEXT } })).json() as { tokens: number[] };
    const withSpecial = (await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: TEXT, add_special: true } })).json() as { tokens: number[] };
    assert.deepEqual(withSpecial.tokens, without.tokens);
  });

  test('a request without a model goes to the one model loaded', async () => {
    const reply = await server.request('/engines/llama.cpp/tokenize', { body: { content: TEXT } });
    assert.equal(reply.status, 200, reply.text);
    const named = (await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: TEXT } })).json();
    assert.deepEqual(reply.json(), named);
  });

  test('detokenize refuses a token outside the vocabulary with a 400 naming it', async () => {
    const reply = await server.request('/engines/llama.cpp/detokenize', { body: { model: DEMO, tokens: [1, 99999999] } });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json().error.message, /99999999/);
  });

  test('apply-template gives the text the chat route evaluates: its tokens number the chat reply\'s prompt_tokens', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: TEXT },
    ];
    for (const prefix of ['/engines/llama.cpp', '/v1']) {
      const applied = await server.request(`${prefix}/apply-template`, { body: { model: DEMO, messages } });
      assert.equal(applied.status, 200, applied.text);
      const { prompt } = applied.json() as { prompt: string };
      assert.ok(prompt.includes(TEXT) && prompt.includes('Be brief.'), prompt);
      const tokenized = (await server.request('/engines/llama.cpp/tokenize', { body: { model: DEMO, content: prompt, add_special: true } })).json() as { tokens: number[] };
      const chat = await server.request('/engines/v1/chat/completions', { body: { model: DEMO, messages, max_tokens: 1 } });
      assert.equal(chat.status, 200, chat.text);
      assert.equal(tokenized.tokens.length, chat.json().usage.prompt_tokens, JSON.stringify({ prompt, tokens: tokenized.tokens }));
    }
  });

  test('apply-template without messages is a 400 naming messages', async () => {
    const reply = await server.request('/engines/llama.cpp/apply-template', { body: { model: DEMO } });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json().error.message, /messages/);
  });

  test('props reports the context size, the slots, the model path and the build', async () => {
    const reply = await server.request(`/engines/llama.cpp/props?model=${encodeURIComponent(DEMO)}`);
    assert.equal(reply.status, 200, reply.text);
    const props = reply.json() as { default_generation_settings: { n_ctx: number }; total_slots: number; model_path: string; build_info: string; chat_template: string };
    assert.equal(props.default_generation_settings.n_ctx, 2048);
    assert.equal(props.total_slots, 1);
    assert.match(props.model_path, /\S/);
    assert.match(props.build_info, /\S/);
    assert.match(props.chat_template, /im_start/, 'the demo model carries a ChatML template');
  });

  test('an unknown model is a 404 in the OpenAI error shape', async () => {
    const reply = await server.request('/engines/llama.cpp/tokenize', { body: { model: 'ai/nope', content: TEXT } });
    assert.equal(reply.status, 404, reply.text);
    assert.equal(typeof reply.json().error.message, 'string');
  });

  test('a body that is not JSON is a 400', async () => {
    const reply = await server.request('/engines/llama.cpp/tokenize', { body: '{"model":', headers: { 'content-type': 'application/json' } });
    assert.equal(reply.status, 400, reply.text);
    assert.equal(typeof reply.json().error.message, 'string');
  });

  test('a body with the wrong field types is a 400 naming the field', async () => {
    const reply = await server.request('/engines/llama.cpp/detokenize', { body: { model: DEMO, tokens: 'abc' } });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json().error.message, /tokens/);
  });
});
