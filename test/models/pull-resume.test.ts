import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '../../src/log.js';
import { Catalog, type ProgressEvent } from '../../src/models/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { makeTempDir } from '../support/catalog-fixtures.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { waitUntil } from '../e2e/support/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/pull-child.ts', import.meta.url));
const LAYER_BYTES = 6 * 1024 * 1024;
/** Where the CDN stops the layer until the child is killed: a real part of it, far from all. */
const HELD_AT = 1536 * 1024 + 123;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

describe('a pull killed with SIGKILL resumes in a new process', () => {
  let registry: TestRegistry;
  let dir: string;

  before(async () => {
    registry = await startRegistry('token');
    dir = await makeTempDir('resume');
  });
  after(async () => {
    await registry?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('the second pull asks the CDN for the missing range only and stores an intact model', async () => {
    // Bytes that differ along the whole layer, so a wrongly placed resume cannot hash right.
    const layer = Buffer.alloc(LAYER_BYTES);
    for (let i = 0; i < layer.length; i++) layer[i] = (i * 7919 + (i >> 8)) & 0xff;
    const pushed = await pushArtifact(registry, 'ai/resumable', 'latest', { layers: [layer] });
    const reference = registry.reference('ai/resumable');
    const storeDir = path.join(dir, 'models');
    const partial = path.join(storeDir, 'blobs', 'sha256', `${pushed.layerDigests[0]!.slice('sha256:'.length)}.incomplete`);

    const cdn = registry.cdn!;
    const layerPath = (p: string): boolean => p.includes(pushed.layerDigests[0]!.slice('sha256:'.length));
    const hold = cdn.hold({ afterBytes: HELD_AT, match: ({ path: p }) => layerPath(p) });
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storeDir, reference], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    child.stdout.resume();
    child.stderr.resume();
    try {
      await Promise.race([hold.reached(), exited.then((how) => assert.fail(`the child pull ended (${how}) before the CDN held its layer`))]);
      // The child writes each read as it arrives: the held prefix reaches the file, no more can.
      await waitUntil('the held prefix in the partial file', async () => {
        if (child.exitCode !== null) assert.fail(`the child pull ended (${child.exitCode}) before it could be killed`);
        return (await sizeOf(partial)) >= HELD_AT;
      });
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      hold.stop();
    }
    const left = await sizeOf(partial);
    assert.equal(left, HELD_AT, 'the partial layer holds exactly what the CDN sent');

    cdn.resetStats();
    const store = await openStore(storeDir);
    const client = new RegistryClient({ retries: 0 });
    try {
      const catalog = new Catalog({ store, registry: client, logger: createSilentLogger() });
      const events: ProgressEvent[] = [];
      const result = await catalog.pull(reference, { onEvent: (e) => events.push(e) });
      assert.equal(result.id, pushed.manifestDigest);
      assert.equal(events.at(-1)?.message, 'Model pulled successfully');
      const layerRequests = cdn.stats().requested.filter((r) => layerPath(r.path));
      assert.deepEqual(layerRequests.map((r) => r.range), [`bytes=${HELD_AT}-`], 'the layer was asked for once, from where the partial ends');
      assert.equal(sha256Digest(await store.readBlob(pushed.layerDigests[0]!)), pushed.layerDigests[0]);
      assert.equal(await sizeOf(partial), 0);
    } finally {
      client.dispose();
      await store.close();
    }
  });
});
