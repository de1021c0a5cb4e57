import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, PROMPT_CACHE_DIR_NAME, UPLOADS_DIR_NAME } from '../../../src/store/index.js';
import { sha256Digest } from '../../../src/util/digest.js';
import { addModel, makeTempRoot, manifestFor } from './support/store-fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;

async function age(file: string, days: number): Promise<void> {
  const then = new Date(Date.now() - days * DAY_MS);
  await fs.utimes(file, then, then);
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

describe('sweeping at open', () => {
  test('stale blobs that no manifest names are removed, while blobs of models, of stray manifests and fresh unreferenced ones are kept', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const model = await addModel(first, ['ai/keep:latest']);
    const orphan = first.blobPath(await first.writeBlob(randomBytes(64)));
    // A layer a pull finished before it was interrupted: a resumed pull skips it, so it stays while fresh.
    const fresh = first.blobPath(await first.writeBlob(randomBytes(64)));
    // Named only by a manifest written just before a crash (no index entry yet).
    const strayLayer = await first.writeBlob(randomBytes(64));
    const stray = manifestFor([{ digest: strayLayer, size: 64 }], { digest: model.configDigest, size: 1 });
    await fs.writeFile(path.join(root, 'manifests/sha256', sha256Digest(stray).slice(7)), stray);
    const old = [orphan, first.blobPath(strayLayer), first.blobPath(model.layerDigests[0]!), first.blobPath(model.configDigest)];
    await first.close();
    for (const file of old) await age(file, 8);

    const store = await openStore(root);
    t.after(() => store.close());
    assert.equal(await exists(orphan), false, 'a stale unreferenced blob is removed');
    assert.equal(await exists(fresh), true, 'a fresh unreferenced blob is kept for a resumed pull');
    assert.equal(await store.hasBlob(strayLayer), true, 'a blob a stray manifest names is kept');
    for (const digest of [...model.layerDigests, model.configDigest]) assert.equal(await store.hasBlob(digest), true, `${digest} of a listed model is kept`);
  });

  test('when a manifest cannot be parsed no blob is removed, since what it names is unknown', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const orphan = first.blobPath(await first.writeBlob(randomBytes(64)));
    await first.close();
    await fs.writeFile(path.join(root, 'manifests/sha256', sha256Digest('garbage').slice(7)), 'not json');
    await age(orphan, 8);

    await (await openStore(root)).close();
    assert.equal(await exists(orphan), true);
  });

  test('directories of interrupted uploads are removed whatever their age, and other files there are kept', async (t) => {
    const root = await makeTempRoot(t);
    await (await openStore(root)).close();
    const uploads = path.join(root, UPLOADS_DIR_NAME);
    const interrupted = path.join(uploads, 'upload-AbC123');
    await fs.mkdir(interrupted, { recursive: true });
    await fs.writeFile(path.join(interrupted, 'model.gguf'), 'GGUF half of a model');
    const unrelated = path.join(uploads, 'README');
    await fs.writeFile(unrelated, 'not ours');

    await (await openStore(root)).close();
    assert.equal(await exists(interrupted), false);
    assert.equal(await exists(unrelated), true);
  });

  test('temp files of interrupted prompt prefix saves are removed, and saved prefixes are kept', async (t) => {
    const root = await makeTempRoot(t);
    await (await openStore(root)).close();
    const modelDir = path.join(root, PROMPT_CACHE_DIR_NAME, 'ab'.repeat(32));
    await fs.mkdir(modelDir, { recursive: true });
    const saved = path.join(modelDir, `${'cd'.repeat(32)}.kv`);
    const interrupted = `${saved}.4242.0123abcd.tmp`;
    await fs.writeFile(saved, 'a saved prefix');
    await fs.writeFile(interrupted, 'half a saved prefix');

    await (await openStore(root)).close();
    assert.equal(await exists(interrupted), false);
    assert.equal(await exists(saved), true);
  });

  test('bundles of models that are no longer listed are removed, and bundles of listed models are kept', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const kept = await addModel(first, ['ai/kept:latest']);
    const gone = await addModel(first, ['ai/gone:latest']);
    for (const model of [kept, gone]) {
      await first.linkBlob(model.layerDigests[0]!, path.join(first.bundleDir(model.id), 'model', 'model.gguf'));
    }
    await first.close();
    // The index entry is gone, as after a delete interrupted before it removed the bundle.
    const index = JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')) as { models: Array<{ id: string }> };
    index.models = index.models.filter((m) => m.id !== gone.id);
    await fs.writeFile(path.join(root, 'models.json'), JSON.stringify(index));

    const store = await openStore(root);
    t.after(() => store.close());
    assert.equal(await exists(store.bundleDir(gone.id)), false);
    assert.equal(await exists(path.join(store.bundleDir(kept.id), 'model', 'model.gguf')), true);
  });
});
