/**
 * Docker's DELETE /models/{name} and Ollama's DELETE /api/delete go through one model service:
 * on a loaded model both refuse while it serves a request, both have the engine unload it once
 * it is idle, and afterwards both dialects answer requests for it with a 404 in their own shape.
 * One compiled server with the test fault switch on (a request can be held mid-generation).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { type Reply } from '../support/http-client.js';
import { generateTinyGguf, packageIntoStore } from './support/fixtures.js';
import { openStream } from './support/sse-stream.js';
import { waitUntil } from './support/wait.js';

/** A stop string that blocks the Worker after two tokens until the file after the colon exists. */
const HOLD_FAULT = '__fault_hold__:';
const HELLO = [{ role: 'user', content: 'Hello' }];
/** A guard against hanging the suite if the runner never unloads; the test itself waits on events. */
const HANG_GUARD = { timeout: 120_000 };
/** The model a forced delete removes while it serves a request. */
const FORCED = 'ai/forced-delete';

interface PsEntry {
  model_name: string;
  model_id: string;
  in_use: number;
}

interface Dialect {
  name: string;
  model: string;
  seed: number;
  /** Deletes the model the dialect's way. */
  remove(server: ServerProcess, model: string): Promise<Reply>;
  /** Checks a refusal of a busy model in the dialect's shape. */
  assertInUse(reply: Reply): void;
  /** Checks a successful delete in the dialect's shape; `id` is the model's ID. */
  assertDeleted(reply: Reply, id: string): void;
  /** Requests the deleted model the dialect's ways and checks each 404. */
  assertGone(server: ServerProcess, model: string): Promise<void>;
}

function assertTextError(reply: Reply, status: number, message: RegExp): void {
  assert.equal(reply.status, status, reply.text);
  assert.match(String(reply.headers['content-type']), /text\/plain/);
  assert.match(reply.text, message);
}

function assertJsonError(reply: Reply, status: number, message: RegExp, read: (body: any) => string): void {
  assert.equal(reply.status, status, reply.text);
  assert.match(String(reply.headers['content-type']), /application\/json/);
  assert.match(read(reply.json()), message);
}

const DIALECTS: Dialect[] = [
  {
    name: "Docker's DELETE /models/{name}",
    model: 'ai/docker-delete',
    seed: 31,
    remove: (server, model) => server.request(`/models/${model}`, { method: 'DELETE' }),
    assertInUse: (reply) => assertTextError(reply, 409, /is in use/),
    assertDeleted(reply, id) {
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.json(), [{ Untagged: 'docker.io/ai/docker-delete:latest' }, { Deleted: id }]);
    },
    async assertGone(server, model) {
      assertTextError(await server.request(`/models/${model}`), 404, /not found/);
      assertTextError(await server.request(`/models/${model}`, { method: 'DELETE' }), 404, /not found/);
      const chat = await server.request('/engines/v1/chat/completions', { body: { model, messages: HELLO, max_tokens: 1 } });
      assertJsonError(chat, 404, /not found/, (body) => body.error.message);
    },
  },
  {
    name: "Ollama's DELETE /api/delete",
    model: 'ai/ollama-delete',
    seed: 32,
    remove: (server, model) => server.request('/api/delete', { method: 'DELETE', body: { model } }),
    assertInUse: (reply) => assertJsonError(reply, 409, /is in use/, (body) => body.error),
    assertDeleted(reply) {
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, '');
    },
    async assertGone(server, model) {
      assertJsonError(await server.request('/api/show', { body: { model } }), 404, /not found/, (body) => body.error);
      assertJsonError(await server.request('/api/delete', { method: 'DELETE', body: { model } }), 404, /not found/, (body) => body.error);
      const chat = await server.request('/api/chat', { body: { model, messages: HELLO, stream: false, options: { num_predict: 1 } } });
      assertJsonError(chat, 404, /not found/, (body) => body.error);
    },
  },
];

describe('deleting a loaded model behaves the same in the Docker and Ollama dialects', () => {
  let server: ServerProcess;

  const ps = async () => (await server.request('/engines/ps')).json() as PsEntry[];

  before(async () => {
    server = await startServer({ args: ['--threads', '1', '--log-level', 'info'], env: { MODEL_RUNNER_TEST_FAULTS: '1' } }, async ({ dir, modelsPath }) => {
      for (const dialect of DIALECTS) await packageIntoStore(await generateTinyGguf(dir, dialect.seed), modelsPath, dialect.model);
      await packageIntoStore(await generateTinyGguf(dir, 33), modelsPath, FORCED);
    });
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  for (const dialect of DIALECTS) {
    test(`${dialect.name}: refused while the model serves a request, then the engine unloads it and the next requests are 404s in the dialect's shape`, async () => {
      const { model } = dialect;
      const id = ((await server.request(`/models/${model}`)).json() as { id: string }).id;
      const preload = await server.request('/engines/v1/chat/completions', { headers: { 'X-Preload-Only': 'true' }, body: { model } });
      assert.equal(preload.status, 200, preload.text);

      const release = path.join(server.dir, `release-${dialect.seed}`);
      // Held after its second token until released: the model surely serves a request meanwhile.
      const busy = await openStream(server.socketPath, '/engines/v1/chat/completions', {
        body: { model, messages: HELLO, max_tokens: 8, ignore_eos: true, stop: [`${HOLD_FAULT}${release}`], stream: true },
      });
      assert.equal(busy.status, 200);
      await busy.started;
      try {
        dialect.assertInUse(await dialect.remove(server, model));
        assert.equal((await server.request(`/models/${model}`)).status, 200, 'the refused delete kept the model');
      } finally {
        await fs.writeFile(release, '');
      }
      assert.equal((await busy.ended).at(-1), '[DONE]');
      await waitUntil('the held request released the model', async () => (await ps()).some((p) => p.model_id === id && p.in_use === 0));

      dialect.assertDeleted(await dialect.remove(server, model), id);
      assert.deepEqual((await ps()).filter((p) => p.model_id === id), [], 'the engine unloaded the deleted model before the delete answered');
      await dialect.assertGone(server, model);
    });
  }

  test("Docker's forced delete of a model serving a request removes it at once; the request finishes, then the engine unloads the model", HANG_GUARD, async () => {
    const id = ((await server.request(`/models/${FORCED}`)).json() as { id: string }).id;
    const release = path.join(server.dir, 'release-forced');
    const busy = await openStream(server.socketPath, '/engines/v1/chat/completions', {
      body: { model: FORCED, messages: HELLO, max_tokens: 8, ignore_eos: true, stop: [`${HOLD_FAULT}${release}`], stream: true },
    });
    assert.equal(busy.status, 200);
    await busy.started;
    try {
      const forced = await server.request(`/models/${FORCED}?force=true`, { method: 'DELETE' });
      assert.equal(forced.status, 200, forced.text);
      assert.deepEqual(forced.json(), [{ Untagged: 'docker.io/ai/forced-delete:latest' }, { Deleted: id }]);
      assert.equal((await server.request(`/models/${FORCED}`)).status, 404);
      // Retired: no new request reaches the runner, so /engines/ps no longer lists it.
      assert.deepEqual((await ps()).filter((p) => p.model_id === id), []);
    } finally {
      await fs.writeFile(release, '');
    }
    assert.equal((await busy.ended).at(-1), '[DONE]', 'the request the model was serving runs to its end');
    await server.waitForOutput(/unloading model.*forced-delete|forced-delete.*unloading model/);
  });
});
