import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coveredPrefix, isRangeWithin, mergeRanges, missingRanges, totalBytes } from '../../../src/registry/byte-ranges.js';

describe('byte ranges', () => {
  test('touching and overlapping ranges merge, empty ones vanish, order does not matter', () => {
    assert.deepEqual(mergeRanges([[10, 20], [0, 5], [5, 8], [15, 30], [40, 40]]), [[0, 8], [10, 30]]);
  });

  test('the missing ranges are the gaps between finished ones, up to the size', () => {
    assert.deepEqual(missingRanges([[2, 4], [6, 8]], 10), [[0, 2], [4, 6], [8, 10]]);
    assert.deepEqual(missingRanges([], 10), [[0, 10]]);
    assert.deepEqual(missingRanges([[0, 10]], 10), []);
  });

  test('the covered prefix stops at the first gap', () => {
    assert.equal(coveredPrefix([[5, 9], [0, 3], [3, 4]]), 4);
    assert.equal(coveredPrefix([[1, 9]]), 0);
  });

  test('totals add up and only ranges inside the blob are accepted', () => {
    assert.equal(totalBytes([[0, 3], [10, 20]]), 13);
    assert.equal(isRangeWithin([0, 10], 10), true);
    assert.equal(isRangeWithin([0, 11], 10), false);
    assert.equal(isRangeWithin([5, 5], 10), false);
    assert.equal(isRangeWithin([-1, 3], 10), false);
    assert.equal(isRangeWithin([1.5, 3], 10), false);
    assert.equal(isRangeWithin('0-3', 10), false);
  });
});
