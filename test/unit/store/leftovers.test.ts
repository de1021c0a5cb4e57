import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../../src/store/index.js';
import { sha256Digest } from '../../../src/util/digest.js';
import { addModel, makeTempRoot } from './support/store-fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

describe('partial downloads and other leftovers, owned by the store', () => {
  test('at open a stale partial goes together with its chunk record, and a chunk record without its partial goes whatever its age', async (t) => {
    const root = await makeTempRoot(t);
    const first = await openStore(root);
    const stale = sha256Digest(Buffer.from('stale'));
    const orphan = sha256Digest(Buffer.from('orphan'));
    const fresh = sha256Digest(Buffer.from('fresh'));
    const files = {
      staleData: first.partialPath(stale),
      staleChunks: first.partialChunksPath(stale),
      orphanChunks: first.partialChunksPath(orphan),
      freshData: first.partialPath(fresh),
      freshChunks: first.partialChunksPath(fresh),
    };
    await first.close();
    for (const file of Object.values(files)) await fs.writeFile(file, 'x');
    const eightDaysAgo = new Date(Date.now() - 8 * DAY_MS);
    await fs.utimes(files.staleData, eightDaysAgo, eightDaysAgo);
    await fs.utimes(files.staleChunks, eightDaysAgo, eightDaysAgo);

    const store = await openStore(root);
    t.after(() => store.close());
    assert.equal(await exists(files.staleData), false);
    assert.equal(await exists(files.staleChunks), false, 'the record went with its partial');
    assert.equal(await exists(files.orphanChunks), false, 'a record alone is worth nothing');
    assert.equal(await exists(files.freshData), true);
    assert.equal(await exists(files.freshChunks), true, 'a fresh partial keeps its record so its pull resumes');
  });

  test('the bytes still missing for a set of blobs count what partials hold and skip blobs already present', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    const present = randomBytes(5000);
    const presentDigest = await store.writeBlob(present);
    const partialDigest = sha256Digest(Buffer.from('partly there'));
    await fs.writeFile(store.partialPath(partialDigest), randomBytes(8192));
    const absentDigest = sha256Digest(Buffer.from('absent'));

    const missing = await store.missingBytes([
      { digest: presentDigest, size: present.length },
      { digest: partialDigest, size: 100_000 },
      { digest: absentDigest, size: 30_000 },
      { digest: absentDigest, size: 30_000 },
    ]);
    // The partial's allocated blocks (at least its 8192 bytes) count as done; the repeated blob counts once.
    assert.ok(missing <= 100_000 - 8192 + 30_000 && missing >= 100_000 - 16_384 + 30_000, `missing ${missing}`);
  });

  test('a space check refuses with insufficient_storage naming what, and the free and reclaimable space', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    const space = await store.space();
    await assert.rejects(store.ensureSpace('pull ai/too-big', space.freeBytes + 1), (err: unknown) => {
      const e = err as { code: string; message: string; data: Record<string, number> };
      assert.equal(e.code, 'insufficient_storage');
      assert.match(e.message, /^not enough disk space in the model store to pull ai\/too-big: it needs .*, .* is free, and /);
      assert.ok(!e.message.includes(root), 'no path of the server in the message');
      assert.equal(e.data.needed_bytes, space.freeBytes + 1);
      return true;
    });
    await store.ensureSpace('pull ai/small', 1);
  });

  test('purging leftovers frees partials with their records and blobs no model uses, but not what a download in progress claims or a model uses', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    const model = await addModel(store, ['ai/kept:latest']);
    const unused = await store.writeBlob(randomBytes(4096));
    const leftover = sha256Digest(Buffer.from('leftover'));
    const claimed = sha256Digest(Buffer.from('in progress'));
    for (const digest of [leftover, claimed]) {
      await fs.writeFile(store.partialPath(digest), randomBytes(4096));
      await fs.writeFile(store.partialChunksPath(digest), '{}');
    }
    const release = store.claimDownloads([claimed]);

    const before = await store.space();
    assert.ok(before.partialBytes >= 4096 && before.unreferencedBytes >= 4096, JSON.stringify(before));
    const purged = await store.purgeLeftovers();
    assert.equal(purged.partials, 1);
    assert.equal(purged.blobs, 1);
    assert.equal(await exists(store.partialPath(leftover)), false);
    assert.equal(await exists(store.partialChunksPath(leftover)), false);
    assert.equal(await store.hasBlob(unused), false);
    assert.equal(await exists(store.partialPath(claimed)), true, 'a download in progress keeps its partial');
    assert.equal(await exists(store.partialChunksPath(claimed)), true);
    for (const digest of model.layerDigests) assert.equal(await store.hasBlob(digest), true, 'blobs a model uses stay');

    release();
    assert.equal((await store.purgeLeftovers()).partials, 1, 'released, the partial is a leftover like any other');
    assert.deepEqual((await fs.readdir(path.join(root, 'blobs/sha256'))).filter((n) => n.includes('.incomplete')), []);
  });

  test('undoing a failed download removes the blobs it completed unless a model or another download needs them', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    const model = await addModel(store, ['ai/uses-it:latest']);
    const mine = await store.writeBlob(randomBytes(1024));
    const shared = await store.writeBlob(randomBytes(1024));
    const partial = sha256Digest(Buffer.from('half'));
    await fs.writeFile(store.partialPath(partial), 'x');
    await fs.writeFile(store.partialChunksPath(partial), '{}');
    const releaseMine = store.claimDownloads([mine, shared, partial, model.layerDigests[0]!]);
    const releaseOther = store.claimDownloads([shared]);

    await store.discardDownloads([partial], [mine, shared, model.layerDigests[0]!]);
    assert.equal(await store.hasBlob(mine), false);
    assert.equal(await store.hasBlob(shared), true, 'another download still expects it');
    assert.equal(await store.hasBlob(model.layerDigests[0]!), true, 'a model uses it');
    assert.equal(await exists(store.partialPath(partial)), false);
    assert.equal(await exists(store.partialChunksPath(partial)), false);
    releaseMine();
    releaseOther();
  });
});
