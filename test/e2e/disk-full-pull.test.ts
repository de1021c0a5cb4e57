/**
 * Pulls into a store on a small tmpfs: a pull that cannot fit is refused before a byte is written;
 * one whose room another writer takes midway stops with the same 507 and leaves the volume as it
 * was; what failed pulls leave shows in `df` and goes with `purge --partials`; and the store keeps
 * working (a small model pulls, chats, and is all there is after a restart).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { makeTempDir, runCli, type ServerProcess, startServer } from '../support/server-harness.js';
import { openRequest, parseNdjson } from '../support/http-client.js';
import { generateTinyGguf, packageAndPush } from './support/fixtures.js';
import { allocatedBytes, blobFilesEndingWith, mountSmallVolume, type SmallVolume } from './support/small-volume.js';
import { waitUntil } from './support/wait.js';

const VOLUME_MIB = 16;
/** Larger than the whole volume: no check could let it start. */
const HUGE_LAYER_BYTES = 24 * 1024 * 1024;
/** Fits the empty volume, so the check lets it start; the filler then takes the room. */
const BIG_LAYER_BYTES = 8 * 1024 * 1024;
/** The CDN stops the layer here until the filler has taken the room; the rest then cannot fit. */
const HELD_AT = 1024 * 1024;
const LEFTOVER_SUFFIXES = ['.incomplete', '.chunks', '.tmp'];

const probe = await mountSmallVolume(1);
const skip = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') await probe.dispose();

describe('a pull into a store whose disk is too small', { skip }, () => {
  let volume: SmallVolume | undefined;
  let registry: TestRegistry | undefined;
  let server: ServerProcess | undefined;
  let scratch: string;
  let modelsPath: string;

  const create = (from: string) => server!.request('/models/create', { body: { from }, headers: { accept: 'application/json' } });

  before(async () => {
    scratch = await makeTempDir('mr-e2e-disk-pull-');
    const mounted = await mountSmallVolume(VOLUME_MIB);
    if (typeof mounted === 'string') throw new Error(mounted);
    volume = mounted;
    modelsPath = path.join(volume.dir, 'models');
    registry = await startRegistry('token');
    server = await startServer({ modelsPath, args: ['--threads', '1', '--log-level', 'warn'] });
  });

  after(async () => {
    try {
      await server?.dispose();
      await registry?.stop();
    } finally {
      // The volume goes even when a test or a stop failed.
      await volume?.dispose();
      await fs.rm(scratch, { recursive: true, force: true });
    }
  });

  test('a pull larger than the free space is refused with 507 before a byte is written, saying what it needs, what is free and what could be freed', async () => {
    await pushArtifact(registry!, 'ai/huge', 'latest', { layers: [randomBytes(HUGE_LAYER_BYTES)] });
    const usedBefore = await volume!.usedBytes();

    const reply = await create(registry!.reference('ai/huge', 'latest'));
    assert.equal(reply.status, 507, reply.text);
    assert.match(reply.text, /not enough disk space in the model store to pull .*ai\/huge:latest: it needs 25\.\d+MB, [\d.]+MB is free, and the store has nothing it could free/);
    assert.ok(!reply.text.includes(volume!.dir), `the error names no server path: ${reply.text}`);
    assert.deepEqual(await blobFilesEndingWith(modelsPath, LEFTOVER_SUFFIXES), []);
    assert.equal(await volume!.usedBytes(), usedBefore, 'not a byte was written');
  });

  test('a pull whose room another writer takes midway ends with a 507 error line, and the volume returns to where it was', async () => {
    const pushed = await pushArtifact(registry!, 'ai/big', 'latest', { layers: [randomBytes(BIG_LAYER_BYTES)] });
    const layerDigest = pushed.layerDigests[0]!;
    const partial = path.join(modelsPath, 'blobs', 'sha256', `${layerDigest.slice('sha256:'.length)}.incomplete`);
    const hold = registry!.cdn!.hold({ afterBytes: HELD_AT, match: ({ path: p }) => p.includes(layerDigest.slice('sha256:'.length)) });
    const usedBefore = await volume!.usedBytes();

    try {
      const { res } = await openRequest(server!.socketPath, '/models/create', { body: { from: registry!.reference('ai/big', 'latest') }, headers: { accept: 'application/json' } });
      const chunks: Buffer[] = [];
      const ended = (async () => {
        for await (const chunk of res) chunks.push(chunk as Buffer);
      })();
      await hold.reached();
      await waitUntil('the held part of the layer on the volume', async () => (await allocatedBytes(partial)) >= HELD_AT);
      await volume!.fill();
      hold.release();
      await ended;

      assert.equal(res.statusCode, 200, 'the pull had started streaming');
      const text = Buffer.concat(chunks).toString('utf8');
      const last = parseNdjson<{ type: string; code?: string; message: string }>({ text, headers: res.headers }).at(-1)!;
      assert.equal(last.type, 'error', text);
      assert.equal(last.code, 'insufficient_storage', text);
      assert.match(last.message, new RegExp(`not enough disk space in the model store to pull .*ai/big:latest \\(the disk filled up while blob ${layerDigest} was being written`));
      assert.match(last.message, /it needs 8\.\d+MB, [\d.]+(B|kB|MB) is free/);
      assert.ok(!last.message.includes(volume!.dir), `the error names no server path: ${last.message}`);
    } finally {
      hold.release();
      await volume!.unfill();
    }
    assert.deepEqual(await blobFilesEndingWith(modelsPath, LEFTOVER_SUFFIXES), [], 'the pull removed its partial download and chunk record');
    assert.equal(await volume!.usedBytes(), usedBefore, 'the volume is back where it was before the pull');
  });

  test('df shows the free space and what interrupted downloads left, and purge --partials frees it', async () => {
    // What a pull killed with the server leaves: a partial download with its chunk record.
    const hex = 'ab'.repeat(32);
    const blobs = path.join(modelsPath, 'blobs', 'sha256');
    await fs.writeFile(path.join(blobs, `${hex}.incomplete`), randomBytes(256 * 1024));
    await fs.writeFile(path.join(blobs, `${hex}.incomplete.chunks`), '{"done":[]}');

    const df = (await server!.request('/engines/df')).json<Record<string, number>>();
    assert.ok(df.store_free_bytes! > 0 && df.store_free_bytes! <= VOLUME_MIB * 1024 * 1024, JSON.stringify(df));
    assert.ok(df.partial_downloads_bytes! >= 256 * 1024, JSON.stringify(df));
    assert.equal(df.reclaimable_bytes, df.partial_downloads_bytes! + df.unreferenced_blobs_bytes!);
    const shown = await runCli(['df', '--socket', server!.socketPath]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /Free in the model store's file system: [\d.]+MB/);
    assert.match(shown.stdout, /Reclaimable: [\d.]+kB \(partial downloads [\d.]+kB.*purge --partials/);

    const purged = await runCli(['purge', '--partials', '--socket', server!.socketPath]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /Freed [\d.]+kB: 1 partial download\(s\), 0 unused blob\(s\)/);
    assert.deepEqual(await blobFilesEndingWith(modelsPath, LEFTOVER_SUFFIXES), [], 'the partial went with its chunk record');
    assert.equal((await server!.request('/engines/df')).json<Record<string, number>>().reclaimable_bytes, 0);
  });

  test('after the failures a small model pulls and chats, and after a restart the store lists exactly that model', async () => {
    const reference = registry!.reference('ai/small', 'latest');
    const { username, password, credentialsRegistry } = registry!.credentials!;
    await packageAndPush(await generateTinyGguf(scratch, 21), reference, { DOCKER_USERNAME: username, DOCKER_PASSWORD: password, MODEL_RUNNER_CREDENTIALS_REGISTRY: credentialsRegistry });

    const reply = await create(reference);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
    const chat = await server!.request('/engines/v1/chat/completions', { body: { model: reference, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 } });
    assert.equal(chat.status, 200, chat.text);

    await server!.restart();
    const listed = (await server!.request('/models')).json<Array<{ tags: string[] }>>();
    assert.deepEqual(listed.map((m) => m.tags), [[reference]]);
  });
});
