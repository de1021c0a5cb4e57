import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../../src/store/index.js';
import { AppError } from '../../../src/errors.js';
import { sha256Digest } from '../../../src/util/digest.js';
import { addModel, makeTempRoot, manifestFor } from './support/store-fixtures.js';

describe('models and tags', () => {
  test('a written model round-trips through list, readManifest, getModel and findByTag', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const model = await addModel(store, ['docker.io/ai/smollm2:latest'], [randomBytes(500), randomBytes(700)]);
    assert.equal(model.id, sha256Digest(model.manifest));
    const expected = { id: model.id, tags: ['docker.io/ai/smollm2:latest'], files: [...model.layerDigests, model.configDigest] };
    assert.deepEqual(await store.listModels(), [expected]);
    assert.deepEqual(await store.getModel(model.id), expected);
    assert.deepEqual(await store.findByTag('docker.io/ai/smollm2:latest'), expected);
    assert.equal(await store.findByTag('docker.io/ai/other:latest'), undefined);
    assert.deepEqual(await store.readManifest(model.id), model.manifest);
    await assert.rejects(store.readManifest('sha256:' + 'f'.repeat(64)), (err: AppError) => err.code === 'not_found');

    // The same model survives a reopen exactly.
    await store.close();
    const reopened = await openStore(store.root);
    t.after(() => reopened.close());
    assert.deepEqual(await reopened.listModels(), [expected]);
  });

  test('writing the same manifest again adds its tags to the existing entry instead of duplicating it', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const model = await addModel(store, ['ai/a:latest']);
    assert.equal(await store.writeModel(model.manifest, ['ai/a:v1']), model.id);
    assert.deepEqual((await store.listModels()).map((e) => e.tags), [['ai/a:latest', 'ai/a:v1']]);
  });

  test('a tag moves from one model to another in one step and is never held by both', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const first = await addModel(store, ['ai/x:latest', 'ai/x:v1']);
    const second = await addModel(store, ['ai/x:v2']);
    await store.addTag(second.id, 'ai/x:latest');
    assert.equal((await store.findByTag('ai/x:latest'))?.id, second.id);
    assert.deepEqual((await store.getModel(first.id))?.tags, ['ai/x:v1']);
    assert.deepEqual((await store.getModel(second.id))?.tags, ['ai/x:v2', 'ai/x:latest']);
    const onDisk = JSON.parse(await fs.readFile(path.join(store.root, 'models.json'), 'utf8')) as { models: Array<{ tags: string[] }> };
    assert.equal(onDisk.models.filter((m) => m.tags.includes('ai/x:latest')).length, 1);

    // writeModel moves tags the same way.
    const third = await addModel(store, ['ai/x:v1']);
    assert.deepEqual((await store.getModel(first.id))?.tags, []);
    assert.equal((await store.findByTag('ai/x:v1'))?.id, third.id);

    await assert.rejects(store.addTag('sha256:' + 'e'.repeat(64), 'ai/y:latest'), (err: AppError) => err.code === 'not_found');
    await assert.rejects(store.addTag(first.id, 'has space'), (err: AppError) => err.code === 'bad_request');
  });

  test('removing a tag returns the entry that held it and leaves the model in place', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const model = await addModel(store, ['ai/a:latest', 'ai/a:v1']);
    assert.deepEqual(await store.removeTag('ai/a:v1'), { id: model.id, tags: ['ai/a:latest'], files: (await store.getModel(model.id))!.files });
    assert.equal(await store.removeTag('ai/a:v1'), undefined);
    assert.equal((await store.listModels()).length, 1);
  });

  test('deleting a model keeps blobs another model shares and removes the rest with its manifest and bundle', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const shared = randomBytes(400);
    const first = await addModel(store, ['ai/a:latest'], [shared, randomBytes(300)]);
    const second = await addModel(store, ['ai/b:latest'], [shared]);
    const bundled = path.join(store.bundleDir(first.id), 'model', 'model.gguf');
    await store.linkBlob(first.layerDigests[0]!, bundled);

    const removed = await store.deleteModel(first.id);
    assert.deepEqual(removed.sort(), [first.layerDigests[1]!, first.configDigest].sort());
    assert.equal(await store.hasBlob(first.layerDigests[0]!), true, 'the shared layer stays');
    assert.equal(await store.hasBlob(first.layerDigests[1]!), false);
    assert.equal(await store.hasBlob(first.configDigest), false);
    await assert.rejects(fs.stat(store.bundleDir(first.id)), { code: 'ENOENT' });
    await assert.rejects(store.readManifest(first.id), (err: AppError) => err.code === 'not_found');
    assert.deepEqual((await store.listModels()).map((e) => e.id), [second.id]);
    await assert.rejects(store.deleteModel(first.id), (err: AppError) => err.code === 'not_found');

    assert.deepEqual((await store.deleteModel(second.id)).sort(), [second.layerDigests[0]!, second.configDigest].sort());
    assert.equal(await store.diskUsage(), 0);
  });

  test('writeModel refuses a manifest whose blob is missing, naming that digest, and indexes nothing', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const config = Buffer.from('{}');
    const configDigest = await store.writeBlob(config);
    const missing = sha256Digest(randomBytes(10));
    const manifest = manifestFor([{ digest: missing, size: 10 }], { digest: configDigest, size: config.length });
    await assert.rejects(store.writeModel(manifest, ['ai/a:latest']), (err: AppError) => {
      assert.equal(err.code, 'bad_request');
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
    assert.deepEqual(await store.listModels(), []);
    await assert.rejects(fs.stat(path.join(store.root, 'manifests/sha256', sha256Digest(manifest).slice(7))), { code: 'ENOENT' });
  });

  test('writeModel refuses bytes that are not an OCI image manifest', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const configDigest = await store.writeBlob(Buffer.from('{}'));
    const bad = [
      'not json',
      '[]',
      JSON.stringify({ schemaVersion: 2, config: { digest: configDigest, size: 2 } }),
      JSON.stringify({ schemaVersion: 2, layers: [] }),
      JSON.stringify({ schemaVersion: 2, config: { digest: configDigest, size: 2 }, layers: [{ digest: 'sha256:../../etc/passwd' }] }),
      JSON.stringify({ schemaVersion: 2, config: { digest: configDigest, size: 3 }, layers: [] }),
    ];
    for (const text of bad) {
      await assert.rejects(store.writeModel(Buffer.from(text), ['ai/a:latest']), (err: AppError) => err.code === 'bad_request', text);
    }
    assert.deepEqual(await store.listModels(), []);
  });

  test('concurrent writeModel, addTag and removeTag calls lose no update, in memory or on disk', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const base = await addModel(store, ['ai/base:latest']);
    const count = 30;
    const results = await Promise.all([
      ...Array.from({ length: count }, (_, i) => addModel(store, [`ai/m${i}:latest`])),
      ...Array.from({ length: count }, (_, i) => store.addTag(base.id, `ai/base:t${i}`)),
    ]);
    const models = results.slice(0, count) as Array<{ id: string }>;
    await Promise.all(Array.from({ length: count / 2 }, (_, i) => store.removeTag(`ai/base:t${i}`)));

    const check = async (entries: Awaited<ReturnType<typeof store.listModels>>) => {
      assert.equal(entries.length, count + 1);
      for (const [i, model] of models.entries()) assert.deepEqual(entries.find((e) => e.id === model.id)?.tags, [`ai/m${i}:latest`]);
      const baseTags = entries.find((e) => e.id === base.id)!.tags.sort();
      const expected = ['ai/base:latest', ...Array.from({ length: count / 2 }, (_, i) => `ai/base:t${i + count / 2}`)].sort();
      assert.deepEqual(baseTags, expected);
    };
    await check(await store.listModels());
    await store.close();
    const reopened = await openStore(store.root);
    t.after(() => reopened.close());
    await check(await reopened.listModels());
  });
});
