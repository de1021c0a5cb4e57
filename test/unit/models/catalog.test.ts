import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { estimateModelBytes } from '../../../src/engine/index.js';
import { AppError } from '../../../src/errors.js';
import { generateModel } from '../../../src/gguf/index.js';
import { createSilentLogger } from '../../../src/log.js';
import { Catalog } from '../../../src/models/index.js';
import { RegistryClient } from '../../../src/registry/index.js';
import { openTempStore, storeFakeModel, type TempStore } from '../../support/catalog-fixtures.js';

describe('the catalog over a real store', () => {
  let temp: TempStore;
  let catalog: Catalog;
  let client: RegistryClient;

  beforeEach(async () => {
    temp = await openTempStore('catalog');
    client = new RegistryClient();
    catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger() });
  });
  afterEach(async () => {
    client.dispose();
    await temp.dispose();
  });

  test('resolveForInference refuses a model whose weights are not a valid GGUF', async () => {
    await storeFakeModel(temp.store, { layer: 'definitely not gguf', tags: ['docker.io/ai/broken:latest'] });
    await assert.rejects(catalog.resolveForInference('broken', 'completion'), (err: AppError) => {
      assert.equal(err.code, 'unsupported');
      return true;
    });
  });

  test('resolveForInference returns the bundle path, context sizes and stored settings of an imported GGUF', async () => {
    const gguf = await generateModel({ path: path.join(temp.dir, 'tiny.gguf'), preset: 'tiny', type: 'q8_0', seed: 1, contextLength: 384 });
    const { id } = await catalog.importGguf(gguf.path, { tag: 'local/tiny' });
    await catalog.settings.set(id, { contextSize: 128, keepAlive: '1m' });
    const spec = await catalog.resolveForInference('tiny', 'embedding');
    assert.equal(spec.id, id);
    assert.equal(spec.name, 'tiny');
    assert.equal(spec.mode, 'embedding');
    assert.equal(spec.trainContextSize, 384);
    assert.equal(spec.packagedContextSize, undefined);
    assert.deepEqual(spec.settings, { contextSize: 128, keepAlive: '1m' });
    assert.ok(spec.modelPath.startsWith(temp.store.root));
    assert.deepEqual(await fs.readFile(spec.modelPath), await fs.readFile(gguf.path));
    // The tiny preset: 2 layers, width 64, 4 heads, 2 KV heads.
    assert.deepEqual(spec.geometry, { blockCount: 2, embeddingLength: 64, headCount: 4, headCountKv: 2 });
  });

  test('the memory estimate from the geometry resolveForInference carries equals the one read from the file', async () => {
    const gguf = await generateModel({ path: path.join(temp.dir, 'tiny.gguf'), preset: 'tiny', type: 'q8_0', seed: 1 });
    await catalog.importGguf(gguf.path, { tag: 'local/tiny' });
    const spec = await catalog.resolveForInference('tiny', 'completion');
    assert.ok(spec.geometry);
    const { geometry, ...withoutGeometry } = spec;
    const fromSpec = await estimateModelBytes(spec, 512, 4);
    assert.equal(fromSpec, await estimateModelBytes(withoutGeometry, 512, 4));
    // 2 layers x 2 KV heads x 16 dims x (K and V) x 2 bytes x 512 cells x 4 sequences, on top of the file.
    assert.ok(fromSpec > (await fs.stat(spec.modelPath)).size + 2 * 2 * 16 * 2 * 2 * 512 * 4);
  });

  test('tag needs both repo and tag and returns the canonical target', async () => {
    await storeFakeModel(temp.store, { layer: 'to tag', tags: ['docker.io/ai/src:latest'] });
    await assert.rejects(catalog.tag('src', 'myorg/x', undefined), (err: AppError) => err.code === 'bad_request');
    await assert.rejects(catalog.tag('src', '', 'v1'), (err: AppError) => err.code === 'bad_request');
    await assert.rejects(catalog.tag('missing', 'myorg/x', 'v1'), (err: AppError) => err.code === 'not_found');
    assert.equal(await catalog.tag('src', 'MyOrg/X', 'V1'), 'docker.io/myorg/x:V1');
    assert.equal((await catalog.get('myorg/x:V1')).tags.length, 2);
  });

  test('settings changes made at once are all kept, and a null field goes back to the default', async () => {
    await Promise.all([
      catalog.settings.set('sha256:a', { contextSize: 1024 }),
      catalog.settings.set('sha256:b', { parallel: 2 }),
      catalog.settings.set('sha256:a', { threads: 4 }),
    ]);
    assert.deepEqual(await catalog.settings.list(), { 'sha256:a': { contextSize: 1024, threads: 4 }, 'sha256:b': { parallel: 2 } });
    await catalog.settings.set('sha256:a', { contextSize: null });
    assert.deepEqual(await catalog.settings.get('sha256:a'), { threads: 4 });
  });

  test('disk usage counts the stored blobs and purge empties the catalog', async () => {
    await storeFakeModel(temp.store, { layer: 'x'.repeat(10_000), tags: ['docker.io/ai/big:latest'] });
    assert.ok((await catalog.diskUsage()) >= 10_000);
    await catalog.purge();
    assert.deepEqual(await catalog.list(), []);
  });
});
