import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { placementFor } from '../../../src/registry/blob-download.js';
import { defaultHashPlacement, WORKER_HASH_MIN_CORES } from '../../../src/registry/prefix-hasher.js';

describe('where a download hashes its bytes', () => {
  test('one or two cores hash on the receiving thread, more cores in a worker', () => {
    assert.equal(defaultHashPlacement(1), 'inline');
    assert.equal(defaultHashPlacement(2), 'inline');
    assert.equal(defaultHashPlacement(WORKER_HASH_MIN_CORES), 'worker');
    assert.equal(defaultHashPlacement(16), 'worker');
  });

  test('a blob of 16 MiB or less never starts a worker, whatever the placement', () => {
    assert.equal(placementFor('worker', 16 * 1024 * 1024), 'inline');
    assert.equal(placementFor('worker', 16 * 1024 * 1024 + 1), 'worker');
    assert.equal(placementFor('inline', 500_000_000), 'inline');
  });
});
