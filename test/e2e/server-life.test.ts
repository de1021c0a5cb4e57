/**
 * The compiled server's life around its work: a second server that finds the socket taken, and a
 * SIGTERM that arrives while a chat streams and a pull downloads. A paused CDN keeps the pull in
 * flight and a paused generation keeps the chat in flight, so nothing here races the clock.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CdnHold } from '../support/fake-cdn.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { startDemoServer } from '../support/demo-server.js';
import { runCli, type ServerProcess } from '../support/server-harness.js';
import { parseNdjson } from '../support/http-client.js';
import { heldMarker } from '../../src/engine/index.js';
import { sha256OfFile } from './support/fixtures.js';
import { packageHeldLoadModel } from './support/held-load-model.js';
import { openStream } from './support/sse-stream.js';
import { waitUntil } from './support/wait.js';

const DEMO = 'ai/demo';
const LAYER_BYTES = 3 * 1024 * 1024;
/** Where the CDN pauses the layer: a partial of exactly this size is on disk while the pull waits. */
const HOLD_BYTES = 1024 * 1024;
/** A stop string that blocks the Worker after two tokens until the file after the colon exists. */
const HOLD_FAULT = '__fault_hold__:';
/** The model whose load the last test holds. */
const SLOW = 'ai/slow-load';

async function sizeOf(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

describe('the server across a second start and a SIGTERM in the middle of work', () => {
  let registry: TestRegistry;
  let server: ServerProcess;
  /** Written to let the held load of SLOW go on. */
  let releaseLoad: string;
  let reference: string;
  let layerDigest: string;
  let manifestDigest: string;
  /** The config blob's size: the resumed pull fetches it whole again, being too small to keep a partial of. */
  let configBytes: number;
  let held: CdnHold | undefined;
  const blobPath = (suffix = '') => path.join(server.modelsPath, 'blobs', 'sha256', `${layerDigest.slice('sha256:'.length)}${suffix}`);

  before(async () => {
    registry = await startRegistry('token');
    const pushed = await pushArtifact(registry, 'ai/big', 'latest', { layers: [randomBytes(LAYER_BYTES)] });
    reference = registry.reference('ai/big', 'latest');
    layerDigest = pushed.layerDigests[0]!;
    manifestDigest = pushed.manifestDigest;
    configBytes = (JSON.parse(pushed.manifestBytes.toString('utf8')) as { config: { size: number } }).config.size;
    ({ server } = await startDemoServer({
      // Info level: the test waits for the line that says the shutdown has begun.
      args: ['--threads', '1', '--parallel', '1', '--log-level', 'info'],
      env: { MODEL_RUNNER_TEST_FAULTS: '1' },
      prepare: async ({ dir, modelsPath }) => {
        releaseLoad = await packageHeldLoadModel(dir, modelsPath, SLOW);
      },
    }));
  });

  after(async () => {
    held?.release();
    await server?.dispose();
    await registry?.stop();
  });

  test('a second server on a live socket refuses to start, says so, and leaves the socket to the first', async () => {
    const result = await runCli(['serve', '--socket', server.socketPath, '--models-path', path.join(server.dir, 'other-store')]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, new RegExp(`another server is listening on ${server.socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok((await fs.lstat(server.socketPath)).isSocket(), 'the socket file is still there');
    assert.equal((await server.request('/models')).status, 200, 'the first server still answers on it');
  });

  test('SIGTERM mid-stream and mid-pull: the stream ends cleanly, the pull says the server is shutting down, the partial stays, and the exit is 0', async () => {
    const cdn = registry.cdn!;
    held = cdn.hold({ afterBytes: HOLD_BYTES });
    const pull = await openStream(server.socketPath, '/models/create', { body: { from: reference }, headers: { accept: 'application/json' } }, 'ndjson');
    assert.equal(pull.status, 200);
    await waitUntil('the paused layer on disk', async () => (await sizeOf(blobPath('.incomplete'))) === HOLD_BYTES);

    const release = path.join(server.dir, 'release-chat');
    const chat = await openStream(server.socketPath, '/engines/v1/chat/completions', {
      body: { model: DEMO, messages: [{ role: 'user', content: 'Hello' }], max_tokens: -1, ignore_eos: true, stream: true, stop: [`${HOLD_FAULT}${release}`] },
    });
    assert.equal(chat.status, 200);
    await chat.started;
    assert.equal(chat.finished || pull.finished, false, 'both are in flight');

    const stopped = server.stop();
    await server.waitForOutput(/shutting down/);
    // Only now may the generation go on: it can only end by the shutdown's abort.
    await fs.writeFile(release, '');
    assert.equal(await stopped, 0, server.output());

    const frames = await chat.ended;
    assert.ok(chat.complete, 'the chat stream ended as HTTP says a body ends, not by a cut connection');
    assert.equal(frames.at(-1), '[DONE]', frames.slice(-3).join('\n'));
    // OpenAI has no finish reason for a generation cut short; the server says 'stop' (src/openai/chat-response.ts).
    const finish = JSON.parse(frames.at(-2)!) as { choices: Array<{ finish_reason: string | null }> };
    assert.equal(finish.choices[0]?.finish_reason, 'stop', frames.at(-2));

    const lines = (await pull.ended).map((l) => JSON.parse(l) as { type: string; message?: string });
    assert.ok(pull.complete, 'the pull stream ended as HTTP says a body ends');
    assert.equal(lines.at(-1)?.type, 'error', JSON.stringify(lines.at(-1)));
    assert.match(lines.at(-1)?.message ?? '', /the server is shutting down/);
    assert.equal(await sizeOf(blobPath('.incomplete')), HOLD_BYTES, 'the partial download is kept');
  });

  test('on the next start the pull resumes from the kept partial and fetches only the rest of the layer', async () => {
    const cdn = registry.cdn!;
    held?.release();
    cdn.resetStats();
    await server.start();
    const reply = await server.request('/models/create', { body: { from: reference }, headers: { accept: 'application/json' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
    const stats = cdn.stats();
    assert.equal(stats.ranges, 1, 'the layer was asked for with a Range');
    assert.equal(stats.bytes, LAYER_BYTES - HOLD_BYTES + configBytes, 'of the layer, only the missing bytes were sent');
    assert.equal(await sha256OfFile(blobPath()), layerDigest);
    assert.equal(await sizeOf(blobPath('.incomplete')), 0, 'no partial is left behind');
    assert.equal((await server.request(`/models/${reference}`)).json().id, manifestDigest);
  });

  test('SIGTERM while a model loads: the request waiting for it gets a 503 that says the server is shutting down, and the exit is 0', async () => {
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ socketPath: server.socketPath, path: '/engines/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: SLOW, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 2 }));
    });
    // Inside the hold, llama.cpp's part of the load is done and the engine's thread is blocked: it
    // will report the model ready after the shutdown was asked for, which must still count as called off.
    await waitUntil('the engine inside the held load', async () => existsSync(heldMarker(releaseLoad)));
    assert.ok(((await server.request('/engines/ps')).json() as Array<{ model_name: string; loading: boolean }>).some((p) => p.model_name === SLOW && p.loading));
    const stopped = server.stop();
    await server.waitForOutput(/shutting down/);
    const reply = await answer;
    assert.equal(reply.status, 503, reply.body);
    assert.match(reply.body, /the server is shutting down/);
    // The Worker finishes its load (nothing can end a thread mid native call), then stops.
    await fs.writeFile(releaseLoad, '');
    assert.equal(await stopped, 0, server.output());
    assert.match(server.output(), /model load cancelled .*model=(docker\.io\/)?ai\/slow-load/);
    assert.doesNotMatch(server.output(), /model failed to load/, 'a load called off is not logged as a failure');
  });
});
