import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../../src/store/index.js';
import { sha256Digest } from '../../../src/util/digest.js';
import { tempPathFor } from '../../../src/util/atomic-file.js';
import { addModel, killHard, makeTempRoot, spawnSupportScript, waitForLine } from './support/store-fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('recovery at open', () => {
  test('after a writer is SIGKILLed at several different moments the store opens and every listed model has its manifest and blobs', async (t) => {
    const root = await makeTempRoot(t);
    const mustSurvive = new Set<string>();
    // Kill after a different number of completed models each round, so the kill lands at different points.
    for (const completed of [1, 4, 9]) {
      const child = spawnSupportScript('crash-writer.ts', [root]);
      t.after(() => killHard(child));
      child.stdout!.setEncoding('utf8').on('data', (text: string) => {
        for (const line of text.split('\n')) {
          if (line.startsWith('wrote ')) mustSurvive.add(line.slice(6));
          if (line.startsWith('deleting ')) mustSurvive.delete(line.slice(9));
        }
      });
      await waitForLine(child, 'wrote ', completed);
      await killHard(child);

      // Before any repair at open: the index on disk never names a file that is not there.
      const raw = JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')) as { models: Array<{ id: string; files: string[] }> };
      for (const entry of raw.models) {
        await fs.access(path.join(root, 'manifests/sha256', entry.id.slice(7)));
        for (const digest of entry.files) await fs.access(path.join(root, 'blobs/sha256', digest.slice(7)));
      }

      const store = await openStore(root);
      const models = await store.listModels();
      for (const model of models) {
        const manifest = await store.readManifest(model.id);
        assert.equal(sha256Digest(manifest), model.id);
        for (const digest of model.files) assert.equal(await store.hasBlob(digest), true, `${model.id} has ${digest}`);
      }
      const listed = new Set(models.map((m) => m.id));
      for (const id of mustSurvive) assert.ok(listed.has(id), `model ${id} reported as written survives the kill`);
      assert.equal(models.filter((m) => m.tags.includes('ai/moving:latest')).length, 1, 'the moving tag is on exactly one model');
      const leftovers = (await fs.readdir(path.join(root, 'blobs/sha256'))).filter((n) => n.endsWith('.tmp'));
      assert.deepEqual(leftovers, [], 'temp files of interrupted writes are gone');
      await store.close();
    }
    assert.ok(mustSurvive.size > 0);
  });

  test('partial downloads older than the threshold are removed at open while fresh ones and unrelated files are kept', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const stale = first.partialPath(sha256Digest(Buffer.from('stale')));
    const fresh = first.partialPath(sha256Digest(Buffer.from('fresh')));
    const tempOfCrashedWrite = tempPathFor(first.blobPath(sha256Digest(Buffer.from('temp'))));
    const tempInRoot = tempPathFor(path.join(root, 'models.json'));
    const unrelated = path.join(root, 'blobs/sha256', 'notes.txt');
    await first.close();
    for (const file of [stale, fresh, tempOfCrashedWrite, tempInRoot, unrelated]) await fs.writeFile(file, 'x');
    const eightDaysAgo = new Date(Date.now() - 8 * DAY_MS);
    await fs.utimes(stale, eightDaysAgo, eightDaysAgo);
    await fs.utimes(unrelated, eightDaysAgo, eightDaysAgo);

    const store = await openStore(root);
    t.after(() => store.close());
    await assert.rejects(fs.stat(stale), { code: 'ENOENT' });
    await assert.rejects(fs.stat(tempOfCrashedWrite), { code: 'ENOENT' });
    await assert.rejects(fs.stat(tempInRoot), { code: 'ENOENT' });
    assert.ok((await fs.stat(fresh)).isFile(), 'a fresh partial is kept so its pull can resume');
    assert.ok((await fs.stat(unrelated)).isFile());
  });

  test('a shorter staleAfterMs removes partials that the default would keep', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const partial = first.partialPath(sha256Digest(Buffer.from('two days')));
    await first.close();
    await fs.writeFile(partial, 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS);
    await fs.utimes(partial, twoDaysAgo, twoDaysAgo);
    await (await openStore(root)).close();
    assert.ok((await fs.stat(partial)).isFile());
    const store = await openStore(root, { staleAfterMs: DAY_MS });
    t.after(() => store.close());
    await assert.rejects(fs.stat(partial), { code: 'ENOENT' });
  });

  test('an index entry whose blob or manifest vanished is dropped at open while intact models and stray manifests stay', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const keep = await addModel(first, ['ai/keep:latest']);
    const lostBlob = await addModel(first, ['ai/lost-blob:latest'], [randomBytes(64)]);
    const lostManifest = await addModel(first, ['ai/lost-manifest:latest']);
    await first.close();
    await fs.rm(path.join(root, 'blobs/sha256', lostBlob.layerDigests[0]!.slice(7)));
    await fs.rm(path.join(root, 'manifests/sha256', lostManifest.id.slice(7)));
    // A manifest written just before a crash, with no index entry yet.
    const stray = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: keep.configDigest }, layers: [] }));
    await fs.writeFile(path.join(root, 'manifests/sha256', sha256Digest(stray).slice(7)), stray);

    const store = await openStore(root);
    t.after(() => store.close());
    assert.deepEqual((await store.listModels()).map((m) => m.id), [keep.id]);
    const onDisk = JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')) as { models: Array<{ id: string }> };
    assert.deepEqual(onDisk.models.map((m) => m.id), [keep.id], 'the repaired index is written back');
  });
});
