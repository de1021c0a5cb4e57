/**
 * Pulls through a Docker-Hub-shaped registry (token auth, blobs redirected to a CDN) by the
 * compiled server, and what a crash leaves behind: a kill -9 mid-download, a restart on the same
 * store, a resumed download, and the store lock that keeps a second server out.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { runCli, type ServerProcess, startServer } from '../support/server-harness.js';
import { openRequest, parseNdjson } from '../support/http-client.js';
import { waitUntil } from './support/wait.js';
import { generateTinyGguf, packageAndPush, sha256OfFile } from './support/fixtures.js';

const LAYER_BYTES = 12 * 1024 * 1024;
/** The CDN stops the layer here until the server is killed: a real partial, far from complete. */
const HELD_AT = 1024 * 1024 + 4321;

async function sizeOf(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

describe('pulls through a token registry and a CDN, across a crash of the server', () => {
  let registry: TestRegistry;
  let server: ServerProcess;

  const create = (from: string) => server.request('/models/create', { body: { from }, headers: { accept: 'application/json' } });

  before(async () => {
    registry = await startRegistry('token');
    server = await startServer({ args: ['--threads', '1', '--log-level', 'warn'] });
  });

  after(async () => {
    await server?.dispose();
    await registry?.stop();
  });

  test('a pull through the token registry follows the blob redirect to the CDN without sending it credentials', async () => {
    const reference = registry.reference('ai/tiny', 'latest');
    const { username, password, credentialsRegistry } = registry.credentials!;
    await packageAndPush(await generateTinyGguf(server.dir, 11), reference, { DOCKER_USERNAME: username, DOCKER_PASSWORD: password, MODEL_RUNNER_CREDENTIALS_REGISTRY: credentialsRegistry });
    registry.cdn!.resetStats();

    const reply = await create(reference);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
    const stats = registry.cdn!.stats();
    assert.ok(stats.requests > 0, 'the blobs came from the CDN');
    assert.equal(stats.rejectedAuth, 0, 'no request to the CDN carried an Authorization header');
    const chat = await server.request('/engines/v1/chat/completions', { body: { model: reference, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 } });
    assert.equal(chat.status, 200, chat.text);
  });

  test('after kill -9 mid-pull the store reopens, the partial download resumes with Range, and the model is intact', async () => {
    const layer = randomBytes(LAYER_BYTES);
    const pushed = await pushArtifact(registry, 'ai/big', 'latest', { layers: [layer] });
    const reference = registry.reference('ai/big', 'latest');
    const layerDigest = pushed.layerDigests[0]!;
    const partial = path.join(server.modelsPath, 'blobs', 'sha256', `${layerDigest.slice('sha256:'.length)}.incomplete`);
    const blob = path.join(server.modelsPath, 'blobs', 'sha256', layerDigest.slice('sha256:'.length));
    const cdn = registry.cdn!;
    const layerHex = layerDigest.slice('sha256:'.length);
    const hold = cdn.hold({ afterBytes: HELD_AT, match: ({ path: p }) => p.includes(layerHex) });

    const { res } = await openRequest(server.socketPath, '/models/create', { body: { from: reference } });
    res.on('error', () => undefined);
    res.resume();
    try {
      await hold.reached();
      // The server writes each read as it arrives: the held prefix reaches the file, no more can.
      await waitUntil('the held part of the layer on disk', async () => (await sizeOf(partial)) >= HELD_AT);
      await server.kill9();
    } finally {
      hold.stop();
    }
    const kept = await sizeOf(partial);
    assert.equal(kept, HELD_AT, 'the partial holds exactly what the CDN sent before it stopped');

    cdn.resetStats();
    await server.start();
    const listed = await server.request('/models');
    assert.equal(listed.status, 200, listed.text);
    assert.equal((listed.json() as Array<{ tags: string[] }>).some((m) => m.tags.includes(reference)), false, 'a half-pulled model is not listed');

    const reply = await create(reference);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
    const layerRequests = cdn.stats().requested.filter((r) => r.path.includes(layerHex));
    assert.deepEqual(layerRequests.map((r) => r.range), [`bytes=${kept}-`], 'the layer was asked for once, from where the partial ends');
    assert.equal(await sha256OfFile(blob), layerDigest, 'the stored layer hashes to its digest');
    assert.equal(await sizeOf(partial), 0, 'no partial is left behind');
    const shown = await server.request(`/models/${reference}`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal((shown.json() as { id: string }).id, pushed.manifestDigest);
  });

  test('a second server on the same store refuses to start and names the process holding the lock', async () => {
    const result = await runCli(['serve', '--socket', path.join(server.dir, 'second.sock'), '--models-path', server.modelsPath]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`locked by process ${server.pid}\\b`));
    assert.equal((await server.request('/models')).status, 200, 'the first server is unaffected');
    assert.equal(await server.stop(), 0, 'the first server exits cleanly on SIGTERM');
  });
});
