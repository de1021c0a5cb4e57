import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { createEnginesRouter } from '../../src/http/docker/engines-router.js';
import { CHAT_ID, type ScriptedDepsOptions, scriptedDeps } from './scripted-deps.js';
import { request, startTestServer } from './socket-client.js';

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const server of servers) await server.close();
});

async function setup(options: ScriptedDepsOptions = {}) {
  const scripted = scriptedDeps(options);
  const server = await startTestServer([createEnginesRouter(scripted.deps)]);
  servers.push(server);
  return { ...scripted, socketPath: server.socketPath };
}

describe('engine status, ps and unload', () => {
  test('GET /engines/status reports llama.cpp as running with its backend and version', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/status');
    assert.deepEqual(res.json(), { 'llama.cpp': 'Running: llama.cpp cpu 3.21.1' });
  });

  test('GET /engines/ps lists loaded models with Docker\'s snake_case fields', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/ps');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), [
      {
        backend_name: 'llama.cpp',
        model_name: 'ai/smollm2',
        model_id: CHAT_ID,
        mode: 'completion',
        context_size: 4096,
        parallel: 2,
        threads: 4,
        memory_bytes: 123456,
        in_use: 0,
        loading: false,
        keep_alive: '5m',
        expires_at: '2026-01-01T00:05:00.000Z',
        last_used: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  test('POST /engines/unload resolves model names to IDs, passes unknown names through and answers unloaded_runners', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/unload', { body: { backend: 'llama.cpp', models: ['ai/smollm2', 'ghost'] } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { unloaded_runners: 2 });
    assert.deepEqual(t.unloadRequests, [{ all: false, models: [CHAT_ID, 'ghost'] }]);
  });

  test('POST /engines/unload with all unloads everything', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/unload', { body: { all: true } });
    assert.deepEqual(res.json(), { unloaded_runners: 2 });
    assert.equal(t.unloadRequests[0]!.all, true);
  });

  test('POST /engines/unload for an unknown backend is a plain-text 404', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/unload', { body: { all: true, backend: 'vllm' } });
    assert.equal(res.status, 404);
    assert.equal(res.text, 'backend "vllm" not found\n');
  });
});

describe('_configure', () => {
  test('POST /engines/_configure persists the settings through the settings store, reconfigures and answers 202', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/llama.cpp/_configure', {
      body: { model: 'ai/smollm2', 'context-size': 8192, keep_alive: '10m', 'runtime-flags': ['--threads', '6', '--flash-attn'], 'raw-runtime-flags': '-b 256' },
    });
    assert.equal(res.status, 202);
    const expected = { contextSize: 8192, keepAlive: '10m', threads: 6, flashAttention: true, batchSize: 256 };
    assert.deepEqual(t.storedSettings.get(CHAT_ID), expected);
    assert.deepEqual(t.reconfigured, [CHAT_ID]);
    assert.deepEqual(res.json().Config, {
      'context-size': 8192,
      'runtime-flags': ['--threads', '6', '--batch-size', '256', '--flash-attn', 'on'],
      keep_alive: '10m',
      threads: 6,
      'batch-size': 256,
      'flash-attn': true,
    });
  });

  test('a disallowed runtime flag is a 400 naming the flag and nothing is persisted', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/_configure', { body: { model: 'ai/smollm2', 'runtime-flags': ['--model', 'x.gguf'] } });
    assert.equal(res.status, 400);
    assert.match(res.text, /"--model"/);
    assert.equal(t.storedSettings.size, 0);
  });

  test('a runtime flag containing a path separator is refused even when the flag itself is allowed', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/_configure', { body: { model: 'ai/smollm2', 'raw-runtime-flags': '--threads=../4' } });
    assert.equal(res.status, 400);
    assert.match(res.text, /--threads=\.\.\/4/);
  });

  test('_configure for an unknown model is a 404 and for a busy model a 409', async () => {
    const unknown = await setup();
    const missing = await request(unknown.socketPath, '/engines/_configure', { body: { model: 'ai/nope', 'context-size': 1024 } });
    assert.equal(missing.status, 404);
    const busy = await setup({ reconfigureError: new AppError('conflict', 'runner for ai/smollm2 is busy') });
    const conflict = await request(busy.socketPath, '/engines/_configure', { body: { model: 'ai/smollm2', 'context-size': 1024 } });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.text, 'runner for ai/smollm2 is busy\n');
  });

  test('an invalid keep_alive is a 400', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/_configure', { body: { model: 'ai/smollm2', keep_alive: 'soon' } });
    assert.equal(res.status, 400);
    assert.match(res.text, /keep_alive/);
  });

  test('GET /engines/_configure lists stored settings with Docker\'s capitalised keys, filtered by ?model=', async () => {
    const t = await setup();
    await request(t.socketPath, '/engines/_configure', { body: { model: 'ai/smollm2', 'context-size': 2048, parallel: 3 } });
    const res = await request(t.socketPath, '/engines/_configure?model=smollm2');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), [
      { Backend: 'llama.cpp', Model: 'docker.io/ai/smollm2:latest', ModelID: CHAT_ID, Mode: 'completion', Config: { 'context-size': 2048, parallel: 3 } },
    ]);
    const other = await request(t.socketPath, '/engines/_configure?model=ai/mxbai-embed');
    assert.deepEqual(other.json(), []);
  });

  test('a context size of 10^12, a negative one or a parallel of 1000 is a 400 over HTTP as it is in the CLI, and nothing is persisted', async () => {
    const t = await setup();
    for (const body of [
      { model: 'ai/smollm2', 'context-size': 1e12 },
      { model: 'ai/smollm2', 'context-size': -4096 },
      { model: 'ai/smollm2', parallel: 1000 },
      { model: 'ai/smollm2', 'runtime-flags': ['--ctx-size', '1000000000000'] },
      { model: 'ai/smollm2', 'raw-runtime-flags': '-np 1000' },
    ]) {
      const res = await request(t.socketPath, '/engines/_configure', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.text, /an integer from \d+ to \d+/);
    }
    assert.equal(t.storedSettings.size, 0);
  });

  test('a malformed _configure body is a plain-text 400', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/engines/_configure', { body: '{nope' });
    assert.equal(res.status, 400);
    assert.match(res.text, /^invalid request body: /);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
  });
});
