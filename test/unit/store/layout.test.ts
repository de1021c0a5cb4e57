import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { openStore } from '../../../src/store/index.js';
import { AppError } from '../../../src/errors.js';
import { addModel, makeTempRoot, manifestFor } from './support/store-fixtures.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('store layout', () => {
  test('a fresh store gets layout.json, an empty models.json and the blobs, manifests and bundles directories', async (t) => {
    const root = path.join(await makeTempRoot(t), 'models');
    const store = await openStore(root);
    t.after(() => store.close());
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, 'layout.json'), 'utf8')), { version: '1.0.0' });
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')), { models: [] });
    for (const dir of ['blobs/sha256', 'manifests/sha256', 'bundles/sha256']) {
      assert.ok((await fs.stat(path.join(root, dir))).isDirectory(), `${dir} exists`);
    }
    assert.deepEqual(await store.listModels(), []);
  });

  test('an existing Docker-style store with ai/x:latest tags and no files field opens and lists its models', async (t) => {
    const root = await makeTempRoot(t);
    const layer = randomBytes(100);
    const config = Buffer.from('{"config":{"format":"gguf"}}');
    const manifest = manifestFor(
      [{ digest: `sha256:${sha(layer)}`, size: layer.length }],
      { digest: `sha256:${sha(config)}`, size: config.length },
    );
    const id = `sha256:${sha(manifest)}`;
    await fs.mkdir(path.join(root, 'blobs/sha256'), { recursive: true });
    await fs.mkdir(path.join(root, 'manifests/sha256'), { recursive: true });
    await fs.writeFile(path.join(root, 'layout.json'), '{"version":"1.0.0"}');
    await fs.writeFile(path.join(root, 'blobs/sha256', sha(layer)), layer);
    await fs.writeFile(path.join(root, 'blobs/sha256', sha(config)), config);
    await fs.writeFile(path.join(root, 'manifests/sha256', sha(manifest)), manifest);
    await fs.writeFile(path.join(root, 'models.json'), JSON.stringify({ models: [{ id, tags: ['ai/x:latest', 'ai/x:Q4'] }] }));

    const store = await openStore(root);
    t.after(() => store.close());
    const expected = { id, tags: ['ai/x:latest', 'ai/x:Q4'], files: [`sha256:${sha(layer)}`, `sha256:${sha(config)}`] };
    assert.deepEqual(await store.listModels(), [expected]);
    assert.deepEqual(await store.findByTag('ai/x:Q4'), expected);
    assert.deepEqual((await store.readManifest(id)).toString(), manifest.toString());
    // The normalised index is written back in Docker's own shape.
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')), { models: [expected] });
  });

  test('a models.json that is not valid JSON stops the open with an error naming the file and is left as it was', async (t) => {
    const root = await makeTempRoot(t);
    const indexFile = path.join(root, 'models.json');
    await fs.writeFile(indexFile, '{"models":[{"id":');
    await assert.rejects(openStore(root), (err: AppError) => {
      assert.equal(err.code, 'internal');
      assert.ok(err.message.includes(indexFile), err.message);
      return true;
    });
    assert.equal(await fs.readFile(indexFile, 'utf8'), '{"models":[{"id":');
    // The failed open released the lock: a later open after repair works.
    await fs.writeFile(indexFile, '{"models":null}');
    const store = await openStore(root);
    assert.deepEqual(await store.listModels(), []);
    await store.close();
  });

  test('runtime settings written through the store are read back after a reopen', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    assert.deepEqual(await first.readSettings(), {});
    const settings = { ['sha256:' + 'a'.repeat(64)]: { context_size: 4096, runtime_flags: ['--no-mmap'] } };
    await first.writeSettings(settings);
    await first.close();
    const second = await openStore(root);
    t.after(() => second.close());
    assert.deepEqual(await second.readSettings(), settings);
    assert.ok((await fs.stat(path.join(root, 'runtime-settings.json'))).isFile());
  });

  test('disk usage is the sum of the blob and manifest sizes', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    assert.equal(await store.diskUsage(), 0);
    const model = await addModel(store, ['ai/a:latest'], [randomBytes(1000), randomBytes(3000)]);
    const configSize = (await store.readBlob(model.configDigest)).length;
    assert.equal(await store.diskUsage(), 1000 + 3000 + configSize + model.manifest.length);
  });

  test('purge removes every model and blob, keeps a usable layout, and refuses a directory without layout.json', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    const model = await addModel(store, ['ai/a:latest']);
    await store.linkBlob(model.layerDigests[0]!, path.join(store.bundleDir(model.id), 'model', 'model.gguf'));
    await store.writeSettings({ [model.id]: { context_size: 1 } });
    await store.purge();
    assert.deepEqual(await store.listModels(), []);
    assert.equal(await store.hasBlob(model.layerDigests[0]!), false);
    assert.deepEqual(await fs.readdir(path.join(root, 'manifests/sha256')), []);
    assert.deepEqual(await fs.readdir(path.join(root, 'bundles/sha256')), []);
    assert.deepEqual(await store.readSettings(), {});
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, 'layout.json'), 'utf8')), { version: '1.0.0' });
    // Still usable after the purge.
    await addModel(store, ['ai/b:latest']);
    assert.equal((await store.listModels()).length, 1);

    await fs.rm(path.join(root, 'layout.json'));
    await assert.rejects(store.purge(), (err: AppError) => err.code === 'conflict' && err.message.includes('layout.json'));
    assert.equal((await store.listModels()).length, 1);
  });

  test('a closed store refuses every method and has released its lock file', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    await store.close();
    await store.close();
    await assert.rejects(store.listModels(), (err: AppError) => err.code === 'internal' && err.message === 'store is closed');
    assert.throws(() => store.blobPath('sha256:' + 'a'.repeat(64)), (err: AppError) => err.message === 'store is closed');
    await assert.rejects(fs.stat(path.join(root, 'model-runner.lock')), { code: 'ENOENT' });
  });
});
