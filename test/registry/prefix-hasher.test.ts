import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { InlinePrefixHasher, startPrefixHasher } from '../../src/registry/prefix-hasher.js';
import { RING_SLOTS } from '../../src/registry/read-ring.js';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Writes `bytes` at `start` of the file the way a download does (synchronously), in pieces of `piece` bytes. */
function writePieces(handle: FileHandle, data: Buffer, start: number, end: number, piece: number, onPiece: (at: number, bytes: Buffer) => void): void {
  for (let at = start; at < end; at += piece) {
    const bytes = data.subarray(at, Math.min(end, at + piece));
    writeSync(handle.fd, bytes, 0, bytes.length, at);
    onPiece(at, bytes);
  }
}

describe('hashing a partial file while it downloads', () => {
  let dir: string;
  let n = 0;
  const open = async (): Promise<FileHandle> => fs.open(path.join(dir, `partial-${n++}`), 'w+');
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-prefix-hasher-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  test('bytes written in order are hashed as they are written, from the buffer, without reading the file back', async () => {
    const data = randomBytes(1_000_003);
    const handle = await open();
    let written = 0;
    const hasher = new InlinePrefixHasher(handle, () => written);
    try {
      writePieces(handle, data, 0, data.length, 65_536, (at, bytes) => {
        written = at + bytes.length;
        hasher.wrote(at, bytes);
        // Synchronously: no read of the file could have happened in between.
        assert.equal(hasher.hashedBytes, written);
      });
      assert.equal(await hasher.finish(data.length), sha256(data));
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });

  test('a chunk written ahead of the front is read back from the file once the chunk before it is in, and the front then continues from the buffer', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const half = 1024 * 1024 + 17;
    const handle = await open();
    // The finished chunks, and where the chunk at the front has reached (as the chunked download tracks them).
    let frontEnd = 0;
    let aheadDone = false;
    const ready = (): number => (aheadDone && frontEnd >= half ? Math.max(frontEnd, 2 * half) : frontEnd);
    const hasher = new InlinePrefixHasher(handle, ready);
    try {
      // The second connection writes [half, 2 * half) first: nothing of it can be hashed yet.
      writePieces(handle, data, half, 2 * half, 100_000, (at, bytes) => hasher.wrote(at, bytes));
      aheadDone = true;
      assert.equal(hasher.hashedBytes, 0);
      // The first connection writes the front chunk; its bytes go in as they come.
      writePieces(handle, data, 0, half, 100_000, (at, bytes) => {
        frontEnd = at + bytes.length;
        hasher.wrote(at, bytes);
      });
      assert.equal(hasher.hashedBytes, half);
      // The front reaches the finished chunk: the hasher reads it back...
      frontEnd = 2 * half;
      hasher.poke();
      await hasher.caughtUp();
      assert.equal(hasher.hashedBytes, 2 * half);
      // ...and takes the rest straight from the writes again.
      writePieces(handle, data, 2 * half, data.length, 100_000, (at, bytes) => {
        frontEnd = at + bytes.length;
        hasher.wrote(at, bytes);
        assert.equal(hasher.hashedBytes, frontEnd);
      });
      assert.equal(await hasher.finish(data.length), sha256(data));
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });

  test('a resumed download hashes the prefix it found in the file and then the bytes it receives', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const kept = 700_001;
    const handle = await open();
    await handle.write(data, 0, kept, 0);
    let written = kept;
    const hasher = startPrefixHasher('inline', '', handle, () => written);
    try {
      writePieces(handle, data, kept, data.length, 50_000, (at, bytes) => {
        written = at + bytes.length;
        hasher.wrote(at, bytes);
      });
      assert.equal(await hasher.finish(data.length), sha256(data));
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });

  test('a file that ends before the size asked for fails with an error that says where it ended', async () => {
    const data = randomBytes(10_000);
    const handle = await open();
    await handle.write(data, 0, data.length, 0);
    const hasher = new InlinePrefixHasher(handle, () => data.length);
    try {
      await assert.rejects(hasher.finish(data.length + 10), (err: unknown) => err instanceof AppError && err.code === 'internal' && /file ended at byte 10000/.test(err.message));
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });

  test('the worker placement hashes front bytes from the shared read buffers, reads back the rest, and gives every buffer back', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 11);
    const file = path.join(dir, 'worker-slots-partial');
    const handle = await fs.open(file, 'w+');
    let ready = 0;
    const hasher = startPrefixHasher('worker', file, handle, () => ready);
    const reads = hasher.readBuffers();
    assert.ok(reads, 'the worker lends read buffers');
    try {
      // As lean-get reads: each piece lands in a lent buffer, is written, offered to the hasher, and
      // returned; synchronously, so the worker cannot give a slot back in between. Returns the buffers used.
      const receive = (start: number, end: number, piece: number, front: boolean): Buffer[] => {
        const used: Buffer[] = [];
        for (let at = start; at < end; at += piece) {
          const buffer = reads.acquire();
          used.push(buffer);
          const n = data.copy(buffer, 0, at, Math.min(end, at + piece));
          const bytes = buffer.subarray(0, n);
          writeSync(handle.fd, bytes, 0, n, at);
          if (front) ready = at + n;
          hasher.wrote(at, bytes);
          reads.release(buffer);
        }
        return used;
      };
      const mid = 3 * 1024 * 1024;
      // A chunk ahead of the front first: its bytes cannot be hashed yet, so its slot is returned and lent again.
      const ahead = receive(mid + 1024 * 1024, data.length, 1024 * 1024, false);
      assert.ok(ahead.every((b) => b === ahead[0] && b.buffer instanceof SharedArrayBuffer), 'the same slot for every piece ahead');
      // The front, in odd pieces: the worker keeps each piece's slot, so every piece gets another one.
      const front = receive(0, mid, 1024 * 1024 - 7, true);
      assert.equal(new Set(front).size, front.length, 'each front piece stayed in its slot for the worker');
      assert.ok(front.every((b) => b.buffer instanceof SharedArrayBuffer));
      receive(mid, mid + 1024 * 1024, 65_536, true);
      ready = data.length;
      hasher.poke();
      assert.equal(await hasher.finish(data.length), sha256(data));
      // The worker's replies gave every slot back before its digest: a new reader gets shared memory each time.
      const fresh = hasher.readBuffers()!;
      for (let i = 0; i < RING_SLOTS; i++) assert.ok(fresh.acquire().buffer instanceof SharedArrayBuffer, `slot ${i} is free again`);
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });

  test('the worker placement reaches the same digest for bytes written out of order', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const file = path.join(dir, 'worker-partial');
    const handle = await fs.open(file, 'w+');
    let ready = 0;
    const hasher = startPrefixHasher('worker', file, handle, () => ready);
    try {
      const mid = 2 * 1024 * 1024;
      writePieces(handle, data, mid, data.length, 1024 * 1024, (at, bytes) => hasher.wrote(at, bytes));
      writePieces(handle, data, 0, mid, 1024 * 1024, (at, bytes) => {
        ready = at + bytes.length;
        hasher.wrote(at, bytes);
      });
      ready = data.length;
      hasher.poke();
      assert.equal(await hasher.finish(data.length), sha256(data));
    } finally {
      await hasher.dispose();
      await handle.close();
    }
  });
});
