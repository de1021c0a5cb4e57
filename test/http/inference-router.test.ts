import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { createEnginesRouter } from '../../src/http/docker/engines-router.js';
import { createInferenceRouter } from '../../src/http/openai/inference-router.js';
import { createMetricsRouter } from '../../src/http/common/metrics.js';
import { hangUpDuringGeneration } from './hang-up.js';
import { CHAT_ID, DONE, type ScriptedDepsOptions, scriptedDeps } from './scripted-deps.js';
import { request, sseData, startTestServer } from './socket-client.js';

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const server of servers) await server.close();
});

async function setup(options: ScriptedDepsOptions = {}) {
  const scripted = scriptedDeps(options);
  const server = await startTestServer([
    createInferenceRouter(scripted.deps),
    createEnginesRouter(scripted.deps),
    createMetricsRouter(scripted.deps.metrics),
  ]);
  servers.push(server);
  return { ...scripted, socketPath: server.socketPath };
}

const chatBody = { model: 'ai/smollm2', messages: [{ role: 'user', content: 'Hi' }] };

describe('chat completions', () => {
  test('a non-streaming chat request answers a chat.completion with the content, usage and the model name the client sent', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/v1/chat/completions', { body: { ...chatBody, temperature: 0.3 } });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'ai/smollm2');
    assert.equal(typeof body.created, 'number');
    assert.deepEqual(body.choices, [{ index: 0, message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop', logprobs: null }]);
    assert.deepEqual(body.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } });
    assert.equal(t.session.requests[0]!.sampling.temperature, 0.3);
    assert.equal(t.acquired[0]!.spec.id, CHAT_ID);
    assert.equal(t.released(), 1);
  });

  test('a streaming chat request sends the role delta, content deltas, the finish chunk, the usage chunk and [DONE] as SSE', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/v1/chat/completions', {
      body: { ...chatBody, stream: true, stream_options: { include_usage: true } },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-accel-buffering'], 'no');
    const frames = sseData(res.text);
    assert.equal(frames.at(-1), '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    assert.deepEqual(
      chunks.map((c) => (c.choices.length ? [c.choices[0].delta, c.choices[0].finish_reason] : ['usage', c.usage.total_tokens])),
      [
        [{ role: 'assistant', content: '' }, null],
        [{ content: 'Hello' }, null],
        [{ content: ' world' }, null],
        [{}, 'stop'],
        ['usage', 15],
      ],
    );
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
    assert.equal(t.released(), 1);
  });

  test('the same chat route answers under /engines/llama.cpp/v1, /engines/v1 and /v1', async () => {
    const t = await setup();
    for (const prefix of ['/engines/llama.cpp/v1', '/engines/v1', '/v1']) {
      const res = await request(t.socketPath, `${prefix}/chat/completions`, { body: chatBody });
      assert.equal(res.status, 200, prefix);
      assert.equal(res.json().choices[0].message.content, 'Hello world', prefix);
    }
  });

  test('a backend other than llama.cpp in the path is an OpenAI-shaped 404 naming it', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/vllm/v1/chat/completions', { body: chatBody });
    assert.equal(res.status, 404);
    assert.equal(res.json().error.message, 'backend "vllm" not found');
  });

  test('malformed JSON is an OpenAI-shaped 400 that says the request is invalid', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/chat/completions', { body: '{"model": "ai/smollm2",' });
    assert.equal(res.status, 400);
    const { error } = res.json();
    assert.match(error.message, /^invalid request body: /);
    assert.equal(error.type, 'invalid_request_error');
  });

  test('a body over 10 MiB is refused as too large', async () => {
    const t = await setup();
    const big = JSON.stringify({ ...chatBody, padding: 'x'.repeat(10 * 1024 * 1024) });
    const res = await request(t.socketPath, '/v1/chat/completions', { body: big });
    assert.equal(res.status, 413);
    assert.equal(res.json().error.message, 'request too large');
  });

  test('a request without a model is a 400 that says model is required', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/chat/completions', { body: { messages: chatBody.messages } });
    assert.equal(res.status, 400);
    assert.equal(res.json().error.message, 'model is required');
    assert.equal(res.json().error.param, 'model');
  });

  test('an unknown model is an OpenAI-shaped 404 and no lease is taken', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, model: 'ai/nope' } });
    assert.equal(res.status, 404);
    assert.equal(res.json().error.type, 'not_found_error');
    assert.match(res.json().error.message, /ai\/nope/);
    assert.equal(t.acquired.length, 0);
  });

  test('n above 8 is a 400 naming the n parameter', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, n: 9 } });
    assert.equal(res.status, 400);
    assert.equal(res.json().error.param, 'n');
    assert.match(res.json().error.message, /at most 8/);
  });

  test('a full queue is a 503 with a Retry-After header taken from the error', async () => {
    const t = await setup({ acquireError: new AppError('busy', 'too many requests queued', { data: { retryAfterSeconds: 7 } }) });
    const res = await request(t.socketPath, '/v1/chat/completions', { body: chatBody });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.json().error.message, 'too many requests queued');
  });

  test('a prompt over the context size answers llama-server\'s exceed_context_size_error shape, even when streaming', async () => {
    const message = 'request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it';
    const t = await setup({
      script: { error: new AppError('context_exceeded', message, { data: { n_prompt_tokens: 5000, n_ctx: 4096 } }) },
    });
    const res = await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, stream: true } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json(), {
      error: { code: 400, message, type: 'exceed_context_size_error', n_prompt_tokens: 5000, n_ctx: 4096 },
    });
    assert.equal(t.released(), 1);
  });

  test('an engine error after the stream started is sent as an error data frame and the stream ends', async () => {
    const t = await setup();
    t.session.generate = async function* () {
      yield { type: 'text', text: 'partial' };
      throw new AppError('unavailable', 'the model worker exited');
    };
    const res = await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, stream: true } });
    assert.equal(res.status, 200);
    const frames = sseData(res.text);
    assert.notEqual(frames.at(-1), '[DONE]');
    assert.equal(JSON.parse(frames.at(-1)!).error.message, 'the model worker exited');
    assert.equal(t.released(), 1);
  });

  test('a client that disconnects mid-stream aborts the generation signal and the lease is released', { timeout: 20_000 }, async () => {
    const t = await setup({ script: { events: [{ type: 'text', text: 'tok' }], hang: true } });
    const { abortedBeforeHangUp, signal } = await hangUpDuringGeneration(t, '/v1/chat/completions', { ...chatBody, stream: true });
    assert.equal(abortedBeforeHangUp, false);
    assert.equal(signal.aborted, true);
    assert.equal(t.released(), 1);
  });

  test('X-Preload-Only loads the model, releases it and answers 200 with an empty body without generating', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/chat/completions', {
      headers: { 'X-Preload-Only': 'true' },
      body: { model: 'ai/smollm2', messages: [] },
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(t.acquired.length, 1);
    assert.equal(t.released(), 1);
    assert.equal(t.session.requests.length, 0);
  });

  test('keep_alive from the body is passed to the scheduler', async () => {
    const t = await setup();
    await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, keep_alive: '10m' } });
    assert.equal(t.acquired[0]!.keepAlive, '10m');
  });
});

describe('text completions', () => {
  test('a completion request answers a text_completion with the generated text', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/completions', { body: { model: 'ai/smollm2', prompt: 'Once', max_tokens: 5 } });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.match(body.id, /^cmpl-/);
    assert.equal(body.object, 'text_completion');
    assert.deepEqual(body.choices, [{ index: 0, text: 'Hello world', finish_reason: 'stop', logprobs: null }]);
    assert.deepEqual(t.session.requests[0], { kind: 'completion', prompt: 'Once', sampling: { maxTokens: 5 } });
  });

  test('a streaming completion sends text chunks, a finish chunk and [DONE]', async () => {
    const t = await setup({ script: { events: [{ type: 'text', text: 'a' }, { ...DONE, finishReason: 'length' }] } });
    const res = await request(t.socketPath, '/v1/completions', { body: { model: 'ai/smollm2', prompt: 'x', stream: true } });
    const frames = sseData(res.text);
    assert.equal(frames.pop(), '[DONE]');
    assert.deepEqual(
      frames.map((f) => JSON.parse(f).choices[0]),
      [
        { index: 0, text: 'a', finish_reason: null, logprobs: null },
        { index: 0, text: '', finish_reason: 'length', logprobs: null },
      ],
    );
  });
});

describe('embeddings and models', () => {
  test('an embeddings request resolves the model in embedding mode and answers a list of vectors with usage', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/llama.cpp/v1/embeddings', { body: { model: 'ai/mxbai-embed', input: ['a', 'b'] } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0, 0.5, -1] },
        { object: 'embedding', index: 1, embedding: [1, 0.5, -1] },
      ],
      model: 'ai/mxbai-embed',
      usage: { prompt_tokens: 10, total_tokens: 10 },
    });
    assert.equal(t.acquired[0]!.spec.mode, 'embedding');
    assert.equal(t.released(), 1);
  });

  test('token arrays as embedding input are a 400 naming input', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/embeddings', { body: { model: 'ai/mxbai-embed', input: [[1, 2, 3]] } });
    assert.equal(res.status, 400);
    assert.equal(res.json().error.param, 'input');
  });

  test('GET /v1/models lists OpenAI model objects named by their first tag', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/v1/models');
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data[0], {
      id: 'docker.io/ai/smollm2:latest',
      object: 'model',
      created: 1745900000,
      owned_by: 'docker',
      dmr: { context_window: 8192, architecture: 'llama', parameters: '361.82M', quantization: 'Q4_K_M', size: '256.35MiB' },
    });
  });

  test('GET /v1/models/{name} accepts a name with slashes and answers 404 for an unknown one', async () => {
    const t = await setup();
    const found = await request(t.socketPath, '/engines/llama.cpp/v1/models/ai/smollm2');
    assert.equal(found.status, 200);
    assert.equal(found.json().id, 'docker.io/ai/smollm2:latest');
    const missing = await request(t.socketPath, '/v1/models/ai/unknown');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().error.type, 'not_found_error');
  });
});

describe('metrics', () => {
  /** The per-model token counter's series, as `{label value: count}`. */
  function promptTokenSeries(text: string): Record<string, string> {
    return Object.fromEntries([...text.matchAll(/^model_runner_prompt_tokens_total\{model="([^"]*)"\} (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  }

  test('GET /metrics shows the request counter and token counters after a chat request, labelled with the model ID', async () => {
    const t = await setup();
    await request(t.socketPath, '/v1/chat/completions', { body: chatBody });
    const res = await request(t.socketPath, '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.text, /model_runner_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} 1/);
    assert.match(res.text, new RegExp(`model_runner_prompt_tokens_total\\{model="${CHAT_ID}"\\} 12`));
    assert.match(res.text, new RegExp(`model_runner_generated_tokens_total\\{model="${CHAT_ID}"\\} 3`));
    assert.match(res.text, new RegExp(`model_runner_time_to_first_token_seconds_count\\{model="${CHAT_ID}"\\} 1`));
    assert.match(res.text, new RegExp(`model_runner_generation_tokens_per_second_sum\\{model="${CHAT_ID}"\\} 10`));
    assert.match(res.text, /process_cpu_user_seconds_total/);
  });

  test('requests naming one model by different names, or naming unknown models, add no label series beyond the model ID', async () => {
    const t = await setup();
    for (const model of ['ai/smollm2', 'smollm2', 'docker.io/ai/smollm2:latest', CHAT_ID]) {
      assert.equal((await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, model } })).status, 200);
    }
    for (const model of ['no-such-model-1', 'no-such-model-2']) {
      assert.equal((await request(t.socketPath, '/v1/chat/completions', { body: { ...chatBody, model } })).status, 404);
    }
    const text = (await request(t.socketPath, '/metrics')).text;
    assert.deepEqual(promptTokenSeries(text), { [CHAT_ID]: '48' });
    assert.doesNotMatch(text, /no-such-model|smollm2/);
  });
});
