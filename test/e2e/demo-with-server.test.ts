/**
 * `demo` while a server holds the store: the README's offline path must work in either order
 * (demo then run, or run then demo).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, runCli, runCliOk, startServer, type ServerProcess } from '../support/server-harness.js';
import { request } from '../support/http-client.js';

describe('the demo command with a running server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(async () => server?.dispose());

  test('sends the model through the server, which then lists it as ai/demo with the ID a direct run gives', async () => {
    const run = await runCli(['demo', '--models-path', server.modelsPath, '--socket', server.socketPath]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /A server holds the store/);
    const directStore = await makeTempDir('mr-demo-direct-');
    const direct = (await runCliOk(['demo', '--models-path', directStore])).stdout.trim();
    await fs.rm(directStore, { recursive: true, force: true });
    assert.ok(run.stdout.includes(direct), `demo through the server printed ${JSON.stringify(run.stdout)}, a direct run ${direct}`);

    const reply = await request(server.socketPath, '/models/ai/demo');
    assert.equal(reply.status, 200, reply.text);
    const model = JSON.parse(reply.text) as { id: string; tags: string[] };
    assert.equal(model.id, direct);
    assert.deepEqual(model.tags, ['docker.io/ai/demo:latest']);
  });
});
