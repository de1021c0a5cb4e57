import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { orderGgufFiles } from '../../../src/models/create.js';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

describe('the GGUF files a create names', () => {
  test('one file may have any name', () => {
    assert.deepEqual(orderGgufFiles([{ name: 'weights', digest: digest(1) }]), [{ name: 'weights', digest: digest(1) }]);
  });

  test('the shards of one split model are put in shard order, whatever order the map gave', () => {
    const files = [
      { name: 'm-00002-of-00003.gguf', digest: digest(2) },
      { name: 'dir/m-00003-of-00003.gguf', digest: digest(3) },
      { name: 'm-00001-of-00003.gguf', digest: digest(1) },
    ];
    assert.deepEqual(orderGgufFiles(files).map((f) => f.digest), [digest(1), digest(2), digest(3)]);
  });

  test('several files that are not all the shards of one model are refused, as is none', () => {
    const refused = [
      [{ name: 'a.gguf', digest: digest(1) }, { name: 'b.gguf', digest: digest(2) }],
      [{ name: 'm-00001-of-00003.gguf', digest: digest(1) }, { name: 'm-00002-of-00003.gguf', digest: digest(2) }],
      [{ name: 'm-00001-of-00002.gguf', digest: digest(1) }, { name: 'n-00002-of-00002.gguf', digest: digest(2) }],
      [{ name: 'm-00001-of-00002.gguf', digest: digest(1) }, { name: 'm-00001-of-00002.gguf', digest: digest(2) }],
    ];
    for (const files of refused) assert.throws(() => orderGgufFiles(files), /not the complete shards of one split GGUF model/, JSON.stringify(files));
    assert.throws(() => orderGgufFiles([]), /files is empty/);
  });
});
