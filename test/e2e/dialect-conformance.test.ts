/**
 * One table over every inference route of every dialect: bad JSON, an unknown model and a prompt
 * past the context each get that dialect's own status and error shape, and a client that leaves
 * a stream stops its generation. One real server on the demo model, with one sequence (so a
 * generation that did not stop would keep the next request waiting) and a small context.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import type { ServerProcess } from '../support/server-harness.js';
import type { Reply } from '../support/http-client.js';
import { openStream } from './support/sse-stream.js';

const DEMO = 'ai/demo';
const MISSING = 'ai/no-such-model';
/** A stop string the test faults read: the generation waits after two tokens until it is cancelled. */
const AWAIT_CANCEL_FAULT = '__fault_await_cancel__';
/** Far past the 256-token context with the demo model's nearly one-token-per-character vocabulary. */
const LONG = 'overflowing words '.repeat(100);

type Shape = 'openai' | 'anthropic' | 'ollama';

interface RouteCase {
  name: string;
  path: string;
  shape: Shape;
  /** A valid body for `model`, with `text` as its prompt. */
  body(model: string, text: string): Record<string, unknown>;
  /** Generation routes: a streamed body that only a cancellation can end, and how its frames come. */
  runaway?: { body: Record<string, unknown>; format: 'sse' | 'ndjson' };
}

const chatMessages = (text: string) => [{ role: 'user', content: text }];

const ROUTES: RouteCase[] = [
  {
    name: 'OpenAI chat completions', path: '/v1/chat/completions', shape: 'openai',
    body: (model, text) => ({ model, messages: chatMessages(text), max_tokens: 2 }),
    runaway: { body: { model: DEMO, messages: chatMessages('Hi'), max_tokens: -1, ignore_eos: true, stream: true, stop: [AWAIT_CANCEL_FAULT] }, format: 'sse' },
  },
  {
    name: 'OpenAI completions', path: '/v1/completions', shape: 'openai',
    body: (model, text) => ({ model, prompt: text, max_tokens: 2 }),
    runaway: { body: { model: DEMO, prompt: 'Hi', max_tokens: -1, ignore_eos: true, stream: true, stop: [AWAIT_CANCEL_FAULT] }, format: 'sse' },
  },
  { name: 'OpenAI embeddings', path: '/v1/embeddings', shape: 'openai', body: (model, text) => ({ model, input: text }) },
  {
    name: 'OpenAI responses', path: '/v1/responses', shape: 'openai',
    body: (model, text) => ({ model, input: text, max_output_tokens: 2 }),
    runaway: { body: { model: DEMO, input: 'Hi', ignore_eos: true, stream: true, stop: [AWAIT_CANCEL_FAULT] }, format: 'sse' },
  },
  {
    name: 'Anthropic messages', path: '/v1/messages', shape: 'anthropic',
    body: (model, text) => ({ model, max_tokens: 2, messages: chatMessages(text) }),
    runaway: { body: { model: DEMO, max_tokens: 4096, stream: true, stop_sequences: [AWAIT_CANCEL_FAULT], messages: chatMessages('Hi') }, format: 'sse' },
  },
  { name: 'Anthropic count_tokens', path: '/v1/messages/count_tokens', shape: 'anthropic', body: (model, text) => ({ model, messages: chatMessages(text) }) },
  {
    name: 'Ollama chat', path: '/api/chat', shape: 'ollama',
    body: (model, text) => ({ model, messages: chatMessages(text), stream: false, options: { num_predict: 2 } }),
    runaway: { body: { model: DEMO, messages: chatMessages('Hi'), options: { num_predict: -1, stop: [AWAIT_CANCEL_FAULT] } }, format: 'ndjson' },
  },
  {
    name: 'Ollama generate', path: '/api/generate', shape: 'ollama',
    body: (model, text) => ({ model, prompt: text, stream: false, options: { num_predict: 2 } }),
    runaway: { body: { model: DEMO, prompt: 'Hi', options: { num_predict: -1, stop: [AWAIT_CANCEL_FAULT] } }, format: 'ndjson' },
  },
  { name: 'Ollama embed', path: '/api/embed', shape: 'ollama', body: (model, text) => ({ model, input: text }) },
  { name: 'llama-server tokenize', path: '/engines/llama.cpp/tokenize', shape: 'openai', body: (model, text) => ({ model, content: text }) },
  { name: 'llama-server apply-template', path: '/engines/llama.cpp/apply-template', shape: 'openai', body: (model, text) => ({ model, messages: chatMessages(text) }) },
  { name: 'rerank', path: '/rerank', shape: 'openai', body: (model, text) => ({ model, query: text, documents: ['a', 'b'] }) },
];

/** Whether the body is the dialect's error shape, with a readable message. */
function assertShape(reply: Reply, shape: Shape, context: string): void {
  const body = reply.json<Record<string, any>>();
  const detail = `${context}: ${reply.text}`;
  if (shape === 'openai') {
    assert.equal(typeof body.error?.message, 'string', detail);
    assert.equal(typeof body.error?.type, 'string', detail);
  } else if (shape === 'anthropic') {
    assert.equal(body.type, 'error', detail);
    assert.equal(typeof body.error?.type, 'string', detail);
    assert.equal(typeof body.error?.message, 'string', detail);
  } else {
    assert.equal(typeof body.error, 'string', detail);
  }
  assert.ok(JSON.stringify(body).length > 20, `${detail}: the error says something`);
}

describe('every dialect answers the same failures in its own shape', () => {
  let server: ServerProcess;

  before(async () => {
    ({ server } = await startDemoServer({ args: ['--threads', '1', '--parallel', '1', '--context-size', '256', '--log-level', 'warn'], env: { MODEL_RUNNER_TEST_FAULTS: '1' } }));
  });
  after(async () => {
    await server?.dispose();
  });

  /** model_runner_generations_total with finish_reason "abort", over every model. */
  const abortedGenerations = async (): Promise<number> => {
    const text = (await server.request('/metrics')).text;
    return [...text.matchAll(/^model_runner_generations_total\{[^}]*finish_reason="abort"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };

  for (const route of ROUTES) {
    test(`${route.name}: bad JSON is a 400 and an unknown model a 404, in the ${route.shape} shape`, async () => {
      const bad = await server.request(route.path, { method: 'POST', body: '{"model": ', headers: { 'content-type': 'application/json' } });
      assert.equal(bad.status, 400, `${route.name} bad JSON: ${bad.text}`);
      assertShape(bad, route.shape, `${route.name} bad JSON`);
      const missing = await server.request(route.path, { body: route.body(MISSING, 'Hello') });
      assert.equal(missing.status, 404, `${route.name} unknown model: ${missing.text}`);
      assertShape(missing, route.shape, `${route.name} unknown model`);
    });
  }

  for (const route of ROUTES.filter((r) => r.runaway)) {
    test(`${route.name}: a prompt past the context is a 400 in the ${route.shape} shape`, async () => {
      const reply = await server.request(route.path, { body: route.body(DEMO, LONG) });
      assert.equal(reply.status, 400, `${route.name}: ${reply.text}`);
      assertShape(reply, route.shape, `${route.name} overflow`);
    });

    test(`${route.name}: a client that leaves a stream stops its generation, so the one sequence serves the next request, and the metrics count it aborted`, async () => {
      const abortedBefore = await abortedGenerations();
      const runaway = await openStream(server.socketPath, route.path, { body: route.runaway!.body }, route.runaway!.format);
      assert.equal(runaway.status, 200);
      await runaway.started;
      runaway.destroy();
      await runaway.ended;
      // One sequence: this request waits until the runaway's generation has ended, which only its cancellation can do.
      const next = await server.request(route.path, { body: route.body(DEMO, 'Hello') });
      assert.equal(next.status, 200, `${route.name} after the disconnect: ${next.text}`);
      // Its end came from the engine before the next request could have the sequence.
      assert.equal((await abortedGenerations()) - abortedBefore, 1, 'one generation ended aborted');
    });
  }
});
