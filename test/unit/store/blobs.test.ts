import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { openStore, type ModelStore } from '../../../src/store/index.js';
import { AppError } from '../../../src/errors.js';
import { sha256Digest } from '../../../src/util/digest.js';
import { makeTempRoot } from './support/store-fixtures.js';

const isCode = (code: string) => (err: AppError) => err instanceof AppError && err.code === code;

async function blobDirNames(store: ModelStore): Promise<string[]> {
  return (await fs.readdir(path.join(store.root, 'blobs/sha256'))).sort();
}

describe('blobs', () => {
  test('a partial whose bytes do not hash to its digest is deleted on commit and reported as digest_mismatch', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const claimed = sha256Digest(Buffer.from('the real bytes'));
    await fs.writeFile(store.partialPath(claimed), 'other bytes');
    await assert.rejects(store.commitPartial(claimed), (err: AppError) => {
      assert.equal(err.code, 'digest_mismatch');
      assert.ok(err.message.includes(claimed) && err.message.includes(sha256Digest(Buffer.from('other bytes'))), err.message);
      return true;
    });
    await assert.rejects(fs.stat(store.partialPath(claimed)), { code: 'ENOENT' });
    assert.equal(await store.hasBlob(claimed), false);
  });

  test('a partial with the right bytes becomes the blob, and a verified commit checks only the size', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const bytes = randomBytes(5000);
    const digest = sha256Digest(bytes);
    await fs.writeFile(store.partialPath(digest), bytes);
    await store.commitPartial(digest);
    assert.deepEqual(await store.readBlob(digest), bytes);
    assert.equal(await store.blobSize(digest), 5000);
    assert.deepEqual(await blobDirNames(store), [digest.slice(7)]);

    // With verified the caller vouches for the hash; only the size is checked.
    const other = sha256Digest(Buffer.from('streamed elsewhere'));
    await fs.writeFile(store.partialPath(other), 'wrong size');
    await assert.rejects(store.commitPartial(other, { verified: true, size: 18 }), isCode('digest_mismatch'));
    await assert.rejects(fs.stat(store.partialPath(other)), { code: 'ENOENT' });
    await fs.writeFile(store.partialPath(other), 'streamed elsewhere');
    await store.commitPartial(other, { verified: true, size: 18 });
    assert.equal(await store.hasBlob(other), true);

    await assert.rejects(store.commitPartial(sha256Digest(Buffer.from('never downloaded'))), isCode('not_found'));
  });

  test('a stream of many small chunks becomes one blob with the right digest and bytes', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    // More than two 4 MiB write buffers, in uneven chunks, so buffer switching and the tail are exercised.
    const bytes = randomBytes(9 * 1024 * 1024 + 12345);
    const chunks: Buffer[] = [];
    for (let offset = 0, n = 1; offset < bytes.length; offset += n, n = (n * 7 + 13) % 70000 + 1) chunks.push(bytes.subarray(offset, offset + n));
    const info = await store.writeBlobFromStream(Readable.from(chunks), { digest: sha256Digest(bytes), size: bytes.length });
    assert.deepEqual(info, { digest: sha256Digest(bytes), size: bytes.length });
    assert.ok((await store.readBlob(info.digest)).equals(bytes));
    assert.deepEqual(await blobDirNames(store), [info.digest.slice(7)]);

    const empty = await store.writeBlobFromStream((async function* () {})());
    assert.deepEqual(empty, { digest: sha256Digest(Buffer.alloc(0)), size: 0 });
  });

  test('a stream that does not match its expected digest or size leaves no blob and no temp file', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const bytes = randomBytes(3000);
    const expected = sha256Digest(randomBytes(3000));
    await assert.rejects(store.writeBlobFromStream(Readable.from([bytes]), { digest: expected }), (err: AppError) => {
      assert.equal(err.code, 'digest_mismatch');
      assert.ok(err.message.includes(expected) && err.message.includes(sha256Digest(bytes)), err.message);
      return true;
    });
    await assert.rejects(store.writeBlobFromStream(Readable.from([bytes, bytes]), { size: 3000 }), isCode('digest_mismatch'));
    await assert.rejects(store.writeBlobFromStream(Readable.from([bytes]), { size: 3001 }), isCode('digest_mismatch'));
    assert.deepEqual(await blobDirNames(store), []);
  });

  test('writeBlob checks the expected digest and returns the digest of the bytes', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const bytes = Buffer.from('{"config":{}}');
    assert.equal(await store.writeBlob(bytes, sha256Digest(bytes)), sha256Digest(bytes));
    assert.equal(await store.writeBlob(bytes), sha256Digest(bytes));
    await assert.rejects(store.writeBlob(Buffer.from('x'), sha256Digest(bytes)), isCode('digest_mismatch'));
    assert.deepEqual(await blobDirNames(store), [sha256Digest(bytes).slice(7)]);
  });

  test('digests that could name a file outside the store are rejected by every method that takes one', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const hostile = ['sha256:../../etc/passwd', 'sha256:' + 'A'.repeat(64), 'sha256:abc', 'sha512:' + 'a'.repeat(64), '../' + 'a'.repeat(64), ''];
    for (const digest of hostile) {
      const bad = isCode('bad_request');
      assert.throws(() => store.blobPath(digest), bad, digest);
      assert.throws(() => store.partialPath(digest), bad, digest);
      assert.throws(() => store.bundleDir(digest), bad, digest);
      await assert.rejects(store.hasBlob(digest), bad, digest);
      await assert.rejects(store.readBlob(digest), bad, digest);
      await assert.rejects(store.commitPartial(digest), bad, digest);
      await assert.rejects(store.linkBlob(digest, path.join(store.root, 'x')), bad, digest);
      await assert.rejects(store.writeBlob(Buffer.from('x'), digest), bad, digest);
      await assert.rejects(store.writeBlobFromStream(Readable.from([Buffer.from('x')]), { digest }), bad, digest);
      await assert.rejects(store.readManifest(digest), bad, digest);
      await assert.rejects(store.getModel(digest), bad, digest);
      await assert.rejects(store.deleteModel(digest), bad, digest);
      await assert.rejects(store.addTag(digest, 'ai/a:latest'), bad, digest);
    }
  });

  test('linkBlob hard-links the blob and atomically replaces what the destination held', async (t) => {
    const store = await openStore(await makeTempRoot(t));
    t.after(() => store.close());
    const bytes = randomBytes(2048);
    const digest = await store.writeBlob(bytes);
    const destination = path.join(store.bundleDir(sha256Digest(Buffer.from('m'))), 'model', 'model.gguf');
    await store.linkBlob(digest, destination);
    assert.equal((await fs.stat(destination)).ino, (await fs.stat(store.blobPath(digest))).ino);
    const replacement = await store.writeBlob(randomBytes(100));
    await store.linkBlob(replacement, destination);
    assert.equal((await fs.stat(destination)).ino, (await fs.stat(store.blobPath(replacement))).ino);
    assert.deepEqual(await fs.readdir(path.dirname(destination)), ['model.gguf']);
    await assert.rejects(store.linkBlob(sha256Digest(Buffer.from('absent')), destination), isCode('not_found'));
  });
});
