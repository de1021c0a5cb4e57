import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { materializeBundle } from '../../src/models/bundle.js';
import {
  CNCF_WEIGHT_RAW,
  DOCKER_CHAT_TEMPLATE,
  DOCKER_LICENSE,
  DOCKER_MMPROJ,
} from '../../src/models/media-types.js';
import { storeHandBuiltModel, tempStore } from './artifact-fixtures.js';

describe('runtime bundles', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  before(async () => {
    env = await tempStore('mr-bundle');
  });
  after(async () => env.cleanup());

  const relative = (id: string, file: string) => path.relative(env.store.bundleDir(id), file);

  test('a single-file model is linked as model/model.gguf with its projector and template beside it', async () => {
    const model = await storeHandBuiltModel(env.store, [
      { bytes: Buffer.from('weights of a single file model') },
      { bytes: Buffer.from('license'), mediaType: DOCKER_LICENSE },
      { bytes: Buffer.from('projector'), mediaType: DOCKER_MMPROJ },
      { bytes: Buffer.from('{{ messages }}'), mediaType: DOCKER_CHAT_TEMPLATE },
    ]);
    const bundle = await materializeBundle(env.store, model.id);
    assert.equal(relative(model.id, bundle.modelPath), path.join('model', 'model.gguf'));
    assert.deepEqual(bundle.shardPaths, [bundle.modelPath]);
    assert.equal(relative(model.id, bundle.mmprojPath!), path.join('model', 'model.mmproj'));
    assert.equal(relative(model.id, bundle.chatTemplatePath!), path.join('model', 'template.jinja'));
    assert.equal(bundle.configFormat, 'gguf');
    assert.equal(await fs.readFile(bundle.chatTemplatePath!, 'utf8'), '{{ messages }}');
  });

  test('a linked file shares its inode with the blob in the store', async () => {
    const model = await storeHandBuiltModel(env.store, [{ bytes: Buffer.from('weights that must not be copied') }]);
    const bundle = await materializeBundle(env.store, model.id);
    const [linked, blob] = await Promise.all([fs.stat(bundle.modelPath), fs.stat(env.store.blobPath(model.layers[0]!.digest))]);
    assert.equal(linked.ino, blob.ino);
    assert.equal(linked.dev, blob.dev);
  });

  test('shards are linked under llama.cpp split names in manifest order', async () => {
    const shards = [Buffer.from('first shard'), Buffer.from('second shard!'), Buffer.from('third shard!!')];
    const model = await storeHandBuiltModel(env.store, shards.map((bytes) => ({ bytes })));
    const bundle = await materializeBundle(env.store, model.id);
    assert.deepEqual(
      bundle.shardPaths.map((p) => relative(model.id, p)),
      ['model-00001-of-00003.gguf', 'model-00002-of-00003.gguf', 'model-00003-of-00003.gguf'].map((n) => path.join('model', n)),
    );
    assert.equal(bundle.modelPath, bundle.shardPaths[0]);
    for (let i = 0; i < shards.length; i++) assert.deepEqual(await fs.readFile(bundle.shardPaths[i]!), shards[i]);
  });

  test('materialising twice reuses the links already in place', async () => {
    const model = await storeHandBuiltModel(env.store, [{ bytes: Buffer.from('weights linked once') }]);
    const first = await materializeBundle(env.store, model.id);
    const before = await fs.stat(first.modelPath);
    const second = await materializeBundle(env.store, model.id);
    assert.deepEqual(second, first);
    assert.equal((await fs.stat(second.modelPath)).ctimeMs, before.ctimeMs);
  });

  test('a CNCF projector is told apart from the weights by its file name', async () => {
    const model = await storeHandBuiltModel(env.store, [
      { bytes: Buffer.from('cncf weights'), mediaType: CNCF_WEIGHT_RAW, filepath: 'model.gguf' },
      { bytes: Buffer.from('cncf projector'), mediaType: CNCF_WEIGHT_RAW, filepath: 'mmproj-model-f16.gguf' },
    ]);
    const bundle = await materializeBundle(env.store, model.id);
    assert.deepEqual(bundle.shardPaths.length, 1);
    assert.equal(await fs.readFile(bundle.mmprojPath!, 'utf8'), 'cncf projector');
  });

  test('a model without a GGUF layer is refused as unsupported, naming the model', async () => {
    const model = await storeHandBuiltModel(env.store, [{ bytes: Buffer.from('just a license'), mediaType: DOCKER_LICENSE }]);
    await assert.rejects(materializeBundle(env.store, model.id), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'unsupported');
      assert.ok(err.message.includes(model.id), err.message);
      return true;
    });
  });
});
