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

const CHILD = fileURLToPath(new URL('./fixtures/pull-child.ts', import.meta.url));
/** Above the registry client's 4 MiB write block, so a first block reaches the disk before the kill. */
const LAYER_BYTES = 6 * 1024 * 1024;
const FIRST_BLOCK = 4 * 1024 * 1024;

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
    cdn.throttleBytesPerSecond = 2 * 1024 * 1024;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storeDir, reference], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    child.stdout.resume();
    child.stderr.resume();
    try {
      // Killed once a real part of the layer is on disk, long before the throttled CDN sends the rest.
      for (;;) {
        const size = await sizeOf(partial);
        if (size >= FIRST_BLOCK) break;
        if (child.exitCode !== null) assert.fail(`the child pull ended (${child.exitCode}) before it could be killed`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const left = await sizeOf(partial);
    assert.ok(left > 0 && left < LAYER_BYTES, `a partial layer of ${left} bytes stays behind`);

    cdn.throttleBytesPerSecond = undefined;
    cdn.resetStats();
    const store = await openStore(storeDir);
    const client = new RegistryClient({ retries: 0 });
    try {
      const catalog = new Catalog({ store, registry: client, logger: createSilentLogger() });
      const events: ProgressEvent[] = [];
      const result = await catalog.pull(reference, { onEvent: (e) => events.push(e) });
      assert.equal(result.id, pushed.manifestDigest);
      assert.equal(events.at(-1)?.message, 'Model pulled successfully');
      assert.ok(cdn.stats().ranges >= 1, 'the resumed download sent a Range request');
      // The margin covers the config blob and a last paced chunk the CDN counts for the dead connection.
      assert.ok(cdn.stats().bytes <= LAYER_BYTES - left + 256 * 1024, `only the missing part was sent again (${cdn.stats().bytes} bytes)`);
      assert.equal(sha256Digest(await store.readBlob(pushed.layerDigests[0]!)), pushed.layerDigests[0]);
      assert.equal(await sizeOf(partial), 0);
    } finally {
      client.dispose();
      await store.close();
    }
  });
});
