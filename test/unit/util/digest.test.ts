import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { sha256File } from '../../../src/util/digest.js';

const dir = mkdtempSync(path.join(tmpdir(), 'digest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes that differ from one MiB read to the next, so that a chunk hashed twice or skipped changes the digest. */
function patterned(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + (i >> 20)) & 0xff;
  return data;
}

const expected = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('hashing a file', () => {
  const data = patterned(3 * (1 << 20) + 12_345);
  const file = path.join(dir, 'blob');
  writeFileSync(file, data);

  test('a file of several reads hashes to the digest of its whole content, with its size', async () => {
    assert.deepEqual(await sha256File(file), { digest: expected(data), size: data.length });
  });

  test('a length hashes only that many leading bytes, across a read boundary or inside the first read', async () => {
    for (const length of [(1 << 20) + 1, 1000]) {
      assert.deepEqual(await sha256File(file, length), { digest: expected(data.subarray(0, length)), size: length });
    }
  });

  test('a length of zero is the digest of nothing, whatever the file holds', async () => {
    assert.deepEqual(await sha256File(file, 0), { digest: expected(new Uint8Array()), size: 0 });
  });

  test('a missing file is an error that names it', async () => {
    await assert.rejects(sha256File(path.join(dir, 'absent')), /ENOENT.*absent/);
  });
});
