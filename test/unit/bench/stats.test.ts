import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mean, percentile, ratio, summarize } from '../../../src/bench/stats.js';

describe('bench stats', () => {
  it('interpolates linearly between closest ranks for percentiles', () => {
    assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
    assert.equal(percentile([10, 20, 30, 40, 50], 25), 20);
    assert.ok(Math.abs(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)! - 9.91) < 1e-9);
  });

  it('returns the minimum at p0 and the maximum at p100 whatever the input order', () => {
    assert.equal(percentile([5, 1, 9, 3], 0), 1);
    assert.equal(percentile([5, 1, 9, 3], 100), 9);
  });

  it('returns the only value of a one-element sample for every percentile', () => {
    assert.equal(percentile([7], 1), 7);
    assert.equal(percentile([7], 99), 7);
  });

  it('returns undefined for an empty sample instead of zero', () => {
    assert.equal(percentile([], 50), undefined);
    assert.equal(mean([]), undefined);
    assert.deepEqual(summarize([]), { count: 0 });
  });

  it('ignores non-finite values', () => {
    assert.equal(percentile([Number.NaN, 2, Number.POSITIVE_INFINITY, 4], 50), 3);
    assert.equal(summarize([Number.NaN, 1, 3]).count, 2);
  });

  it('rejects a percentile outside 0 to 100', () => {
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], -1), RangeError);
  });

  it('summarizes count, mean, extremes and percentiles of a sample', () => {
    const s = summarize([4, 1, 3, 2]);
    assert.equal(s.count, 4);
    assert.equal(s.mean, 2.5);
    assert.equal(s.min, 1);
    assert.equal(s.max, 4);
    assert.equal(s.p50, 2.5);
    assert.ok(s.p99! > 3.9 && s.p99! <= 4);
  });

  it('gives no ratio when a side is missing or the denominator is zero', () => {
    assert.equal(ratio(2, 4), 0.5);
    assert.equal(ratio(undefined, 4), undefined);
    assert.equal(ratio(2, 0), undefined);
  });
});
