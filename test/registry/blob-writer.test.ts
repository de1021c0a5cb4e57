import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { BlobWriter, WriteBehind } from '../../src/registry/blob-writer.js';

/** A FileHandle stand-in whose datasync is counted and settled by the test. */
function fakeHandle(): { handle: FileHandle; syncs: Array<{ resolve: () => void; reject: (err: Error) => void }> } {
  const syncs: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const handle = { datasync: () => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject })) } as unknown as FileHandle;
  return { handle, syncs };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('writing blob bytes with flushing behind the writes', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-blob-writer-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  test('bytes land at the positions given, out of order, and the writer tracks its position', async () => {
    const file = path.join(dir, 'positions');
    const data = randomBytes(300_000);
    const handle = await fs.open(file, 'w+');
    try {
      const second = new BlobWriter(handle, 100_000);
      const first = new BlobWriter(handle, 0);
      second.write(data.subarray(100_000, 300_000));
      first.write(data.subarray(0, 60_000));
      first.write(data.subarray(60_000, 100_000));
      assert.equal(first.position, 100_000);
      assert.equal(second.position, 300_000);
    } finally {
      await handle.close();
    }
    assert.deepEqual(await fs.readFile(file), data);
  });

  test('a flush starts once enough bytes are written, and only one runs at a time', async () => {
    const { handle, syncs } = fakeHandle();
    const flusher = new WriteBehind(handle, 100, 1000);
    assert.equal(flusher.wrote(60), undefined);
    assert.equal(syncs.length, 0);
    flusher.wrote(60);
    flusher.wrote(200);
    assert.equal(syncs.length, 1, 'the second batch waits for the flush in flight');
    syncs[0]!.resolve();
    await tick();
    assert.equal(syncs.length, 2, 'bytes written during the flush start the next one');
    syncs[1]!.resolve();
    await flusher.settle();
  });

  test('a writer is asked to wait while too many bytes are unflushed', async () => {
    const { handle, syncs } = fakeHandle();
    const flusher = new WriteBehind(handle, 100, 1000);
    assert.equal(flusher.wrote(500), undefined);
    const wait = flusher.wrote(600);
    assert.ok(wait instanceof Promise);
    let waited = false;
    void wait.then(() => (waited = true));
    await tick();
    assert.equal(waited, false);
    syncs[0]!.resolve();
    await wait;
    assert.equal(waited, true);
  });

  test('a failed flush fails the download at the next write, since a later fsync may not report it', async () => {
    const { handle, syncs } = fakeHandle();
    const flusher = new WriteBehind(handle, 100, 1000);
    flusher.wrote(150);
    syncs[0]!.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await tick();
    assert.throws(() => flusher.wrote(10), (err: unknown) => err instanceof AppError && err.code === 'internal' && /cannot flush the partial download: EIO/.test(err.message));
    await assert.rejects(flusher.settle(), /EIO/);
  });
});
