import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shareThreads, type ThreadClaim } from '../../../src/engine/thread-shares.js';

const elastic = (key: string, threads: number, maxThreads: number): ThreadClaim<string> => ({ key, threads, maxThreads, stopping: false });
const fixed = (key: string, threads: number): ThreadClaim<string> => ({ key, threads, maxThreads: threads, stopping: false });
const leaving = (key: string, holding: number): ThreadClaim<string> => ({ key, threads: 1, maxThreads: 8, holding, stopping: true });

describe('shareThreads', () => {
  test('a lone model with default threads is given the whole budget', () => {
    assert.deepEqual(shareThreads([elastic('a', 1, 2)], 2), new Map([['a', 2]]));
    assert.deepEqual(shareThreads([elastic('a', 2, 16)], 16), new Map([['a', 16]]));
  });

  test('two models with default threads split the budget evenly', () => {
    assert.deepEqual(shareThreads([elastic('a', 1, 2), elastic('b', 1, 2)], 2), new Map([['a', 1], ['b', 1]]));
    assert.deepEqual(shareThreads([elastic('a', 2, 16), elastic('b', 2, 16)], 16), new Map([['a', 8], ['b', 8]]));
  });

  test('an odd thread left over goes to one of them, never beyond the budget', () => {
    const shares = shareThreads([elastic('a', 1, 3), elastic('b', 1, 3)], 3);
    assert.deepEqual([...shares.values()].sort(), [1, 2]);
  });

  test('a model with a fixed thread count keeps exactly it and the others share the rest', () => {
    assert.deepEqual(shareThreads([fixed('a', 3), elastic('b', 1, 8)], 8), new Map([['a', 3], ['b', 5]]));
  });

  test('a model never gets more than its maximum, and what it cannot take goes to the others', () => {
    assert.deepEqual(shareThreads([elastic('a', 1, 2), elastic('b', 1, 8)], 8), new Map([['a', 2], ['b', 6]]));
  });

  test('a stopping model keeps what it holds until it is gone, and is not given a share', () => {
    assert.deepEqual(shareThreads([leaving('old', 2), elastic('new', 1, 2)], 2), new Map([['new', 1]]));
    assert.deepEqual(shareThreads([elastic('new', 1, 2)], 2), new Map([['new', 2]]));
  });

  test('guaranteed threads are kept even when stopping models hold more than is free', () => {
    assert.deepEqual(shareThreads([leaving('old', 4), elastic('a', 1, 4), fixed('b', 2)], 4), new Map([['a', 1], ['b', 2]]));
  });
});
