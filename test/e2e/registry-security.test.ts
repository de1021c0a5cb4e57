/**
 * The compiled server against scripted registries: the username and password it has from the
 * environment (meant for Docker Hub) reach no other registry, whether a model is pulled or only
 * looked at (`?remote=true`); and `--registry-stall-timeout` bounds how long a registry that
 * stops sending can hold a pull.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { sha256Digest } from '../../src/util/digest.js';
import { answerManifest, basicChallenge, modelManifest, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { parseNdjson } from '../support/http-client.js';

const LAYER = Buffer.alloc(64 * 1024, 3);
const CONFIG = Buffer.from('{"config":{"format":"gguf","size":"64KiB"}}');
const MANIFEST = modelManifest(CONFIG, [LAYER]);

describe('registry security of the running server', () => {
  let server: ServerProcess;
  let evil: ScriptedRegistry;

  before(async () => {
    evil = await startScriptedRegistry((_req, res) => basicChallenge(res));
    server = await startServer({
      args: ['--threads', '1', '--log-level', 'warn', '--registry-stall-timeout', '200ms'],
      env: { DOCKER_USERNAME: 'testuser', DOCKER_PASSWORD: 'testpass' },
    });
  });
  after(async () => {
    await server?.dispose();
    await evil?.close();
  });

  test('DOCKER_USERNAME and DOCKER_PASSWORD are not sent to a registry other than Docker Hub by a pull', async () => {
    evil.requests.length = 0;
    const pull = await server.request('/models/create', { body: { from: `${evil.url}/ai/bait:latest` }, headers: { accept: 'application/json' } });
    assert.match(pull.text, /requires authentication and no credentials are configured/);
    assert.ok(evil.requests.length > 0, 'the pull asked the registry');
    assert.deepEqual(evil.requests.filter((r) => r.headers.authorization !== undefined), []);
  });

  test('nor by a look at the remote model (?remote=true)', async () => {
    evil.requests.length = 0;
    const remote = await server.request(`/models/${evil.url}/ai/bait:latest?remote=true`);
    assert.equal(remote.status, 401, remote.text);
    assert.match(remote.text, /requires authentication and no credentials are configured/);
    assert.ok(evil.requests.length > 0, 'the look asked the registry');
    assert.deepEqual(evil.requests.filter((r) => r.headers.authorization !== undefined), []);
  });

  test('a pull whose layer stalls halfway is abandoned after --registry-stall-timeout and completes on the retry', async () => {
    const hangUps = new EventEmitter();
    let blobRequests = 0;
    const registry = await startScriptedRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) return answerManifest(res, MANIFEST);
      if (req.url?.endsWith(sha256Digest(CONFIG))) return res.writeHead(200, { 'content-length': CONFIG.length }).end(CONFIG);
      if (!req.url?.endsWith(sha256Digest(LAYER))) return res.writeHead(404).end();
      if (blobRequests++ > 0) return res.writeHead(200, { 'content-length': LAYER.length }).end(LAYER);
      // The first attempt: half the layer, then silence until the server gives up on it.
      res.writeHead(200, { 'content-length': LAYER.length });
      res.write(LAYER.subarray(0, LAYER.length / 2));
      res.once('close', () => hangUps.emit('hang-up'));
    });
    try {
      const hungUp = new Promise((resolve) => hangUps.once('hang-up', resolve));
      const reply = await server.request('/models/create', { body: { from: `${registry.url}/ai/stalls:latest` }, headers: { accept: 'application/json' } });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
      await hungUp;
      assert.equal(blobRequests, 2);
    } finally {
      await registry.close();
    }
  });
});
