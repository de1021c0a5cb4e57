/**
 * What the compiled server does at its limits: a full queue, a Worker that throws or exits
 * mid-request, a prompt larger than the context, and per-model settings that must survive a
 * restart. One server with one slot and no queue, and the test fault switch on.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { type ServerProcess } from '../support/server-harness.js';
import { parseSse, type Reply } from '../support/http-client.js';
import { packageHeldLoadModel } from './support/held-load-model.js';
import { openStream } from './support/sse-stream.js';
import { waitUntil } from './support/wait.js';

const DEMO = 'ai/demo';
const HELLO = [{ role: 'user', content: 'Hello, how are you?' }];
/** A stop string that makes the Worker throw after two tokens when MODEL_RUNNER_TEST_FAULTS=1. */
const FAULT = '__fault_throw__';
/** A stop string that makes the Worker exit (code 7) after two tokens. */
const EXIT_FAULT = '__fault_exit__';
/** A stop string that makes an error escape the engine after two tokens, so that the Worker emits 'error'. */
const ERROR_FAULT = '__fault_error__';
/** A stop string that blocks the Worker after two tokens until the file after the colon exists. */
const HOLD_FAULT = '__fault_hold__:';
/** The model whose load the test holds. */
const SLOW = 'ai/slow-load';
/** Long enough for a fault after the second token to strike. */
const LONG = { max_tokens: 400, ignore_eos: true };

function assertOpenAIError(reply: Reply, status: number): { message: string; type: string; code: unknown } {
  assert.equal(reply.status, status, reply.text);
  assert.match(String(reply.headers['content-type']), /application\/json/);
  const { error } = reply.json() as { error: { message: string; type: string; code: unknown } };
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.equal(typeof error.type, 'string');
  return error;
}

describe('the compiled server at its limits', () => {
  let server: ServerProcess;
  /** Written to let the held load of SLOW go on. */
  let releaseLoad: string;

  const chat = (body: Record<string, unknown>) => server.request('/engines/v1/chat/completions', { body: { model: DEMO, messages: HELLO, ...body } });
  const ps = async () => (await server.request('/engines/ps')).json() as Array<{ model_name: string; context_size: number; loading: boolean; in_use: number }>;

  before(async () => {
    ({ server } = await startDemoServer({
      args: ['--threads', '1', '--parallel', '1', '--max-queue', '0', '--log-level', 'warn'],
      env: { MODEL_RUNNER_TEST_FAULTS: '1' },
      prepare: async ({ dir, modelsPath }) => {
        releaseLoad = await packageHeldLoadModel(dir, modelsPath, SLOW);
      },
    }));
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server survived the file and exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('with one slot and no queue, requests that arrive while it is busy get 503 with Retry-After and an OpenAI error body', async () => {
    assert.equal((await server.request('/engines/v1/chat/completions', { headers: { 'X-Preload-Only': 'true' }, body: { model: DEMO } })).status, 200);
    const release = path.join(server.dir, 'release-busy');
    // Held after its second token until released: the slot is surely taken while the others arrive.
    const busy = await openStream(server.socketPath, '/engines/v1/chat/completions', { body: { model: DEMO, messages: HELLO, max_tokens: 8, ignore_eos: true, stop: [`${HOLD_FAULT}${release}`], stream: true } });
    assert.equal(busy.status, 200);
    await busy.started;
    try {
      const refused = await Promise.all([1, 2].map(() => chat(LONG)));
      for (const reply of refused) {
        assert.ok(Number(reply.headers['retry-after']) >= 1, `Retry-After: ${reply.headers['retry-after']}`);
        const error = assertOpenAIError(reply, 503);
        assert.equal(error.code, 'busy');
      }
    } finally {
      await fs.writeFile(release, '');
    }
    assert.equal((await busy.ended).at(-1), '[DONE]', 'the held request finishes once released');
    assert.equal((await chat({ max_tokens: 2 })).status, 200, 'the freed slot serves the next request');
  });

  test('a Worker that throws mid-request fails that request with a JSON 500, and the next request loads the model again', async () => {
    const failed = await chat({ ...LONG, stop: [FAULT] });
    assert.match(assertOpenAIError(failed, 500).message, /the worker of model ai\/demo(:latest)? failed: injected test fault/);
    assert.equal((await server.request('/')).status, 200, 'the server is still up');
    const next = await chat({ max_tokens: 3 });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json().usage.completion_tokens, 3);
    assert.ok((await ps()).some((p) => p.model_name === DEMO));
  });

  test('a Worker that exits mid-request fails that request with a JSON 500 that names the exit, and the next request loads the model again', async () => {
    const failed = await chat({ ...LONG, stop: [EXIT_FAULT] });
    const error = assertOpenAIError(failed, 500);
    assert.match(error.message, /the worker of model ai\/demo(:latest)? exited unexpectedly \(code 7\)/);
    const next = await chat({ max_tokens: 3 });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json().usage.completion_tokens, 3);
  });

  test("a Worker that emits 'error' mid-request fails that request with a JSON 500 naming the error, and the next request loads the model again", async () => {
    const failed = await chat({ ...LONG, stop: [ERROR_FAULT] });
    assert.match(assertOpenAIError(failed, 500).message, /the worker of model ai\/demo(:latest)? failed: injected test fault: an error the engine did not catch/);
    const next = await chat({ max_tokens: 3 });
    assert.equal(next.status, 200, next.text);
  });

  test('a Worker that throws mid-stream ends the stream with an error event, and the server keeps serving', async () => {
    const failed = await chat({ ...LONG, stop: [FAULT], stream: true });
    assert.equal(failed.status, 200, 'the stream had started before the fault');
    const frames = await parseSse(failed.text);
    const last = JSON.parse(frames.at(-1)!) as { error?: { message: string } };
    assert.match(last.error?.message ?? '', /the worker of model ai\/demo(:latest)? failed: injected test fault/, `the stream ends with an error event: ${failed.text.slice(-400)}`);
    assert.equal(frames.includes('[DONE]'), false);
    const next = await chat({ max_tokens: 3, stream: true });
    assert.equal(next.status, 200, next.text);
    assert.equal((await parseSse(next.text)).at(-1), '[DONE]');
  });

  test('a client that goes away while its model loads leaves the load to finish; the model cannot be deleted meanwhile, and then serves the next request', async () => {
    // Sent without waiting for an answer: with the load held, none comes until it is released.
    const req = http.request({ socketPath: server.socketPath, path: '/engines/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: SLOW, messages: HELLO, max_tokens: 2 }));
    await waitUntil('the held load under way', async () => (await ps()).some((p) => p.model_name === SLOW && p.loading));
    req.destroy();

    const deleted = await server.request(`/models/${SLOW}`, { method: 'DELETE' });
    assert.equal(deleted.status, 409, deleted.text);
    assert.match(deleted.text, /in use/);

    await fs.writeFile(releaseLoad, '');
    await waitUntil('the load finished', async () => (await ps()).some((p) => p.model_name === SLOW && !p.loading && p.in_use === 0));
    const next = await chat({ model: SLOW, max_tokens: 2, ignore_eos: true });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json().usage.completion_tokens, 2);
  });

  test('a context size set with _configure survives a restart and is used by the next load', async () => {
    const configured = await server.request('/engines/_configure', { body: { model: DEMO, 'context-size': 256 } });
    assert.equal(configured.status, 202, configured.text);

    await server.restart();
    const listed = await server.request('/engines/_configure');
    assert.equal(listed.status, 200, listed.text);
    const entry = (listed.json() as Array<{ Model: string; Config: Record<string, unknown> }>).find((e) => e.Model.includes(DEMO));
    assert.equal(entry?.Config['context-size'], 256, listed.text);
    assert.deepEqual(await ps(), [], 'nothing is loaded after the restart');

    const reply = await chat({ max_tokens: 3 });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual((await ps()).map((p) => [p.model_name, p.context_size]), [[DEMO, 256]]);
  });

  test("a prompt longer than the context gets a 400 in llama-server's exceed_context_size_error shape", async () => {
    // The tiny vocabulary is close to one token per character: this is well over 256 tokens.
    const reply = await chat({ messages: [{ role: 'user', content: 'hello world '.repeat(100) }], max_tokens: 3 });
    assert.equal(reply.status, 400, reply.text);
    const { error } = reply.json() as { error: { code: number; type: string; message: string; n_prompt_tokens: number; n_ctx: number } };
    assert.equal(error.type, 'exceed_context_size_error');
    assert.equal(error.code, 400);
    assert.equal(error.n_ctx, 256);
    assert.ok(error.n_prompt_tokens > 256, String(error.n_prompt_tokens));
    assert.match(error.message, /exceeds the available context size/);
    const next = await chat({ max_tokens: 2 });
    assert.equal(next.status, 200, 'a request that fits is still served');
  });
});
