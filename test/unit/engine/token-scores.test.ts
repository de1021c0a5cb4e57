import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Token } from '#node-llama-cpp';
import { mostLikely, scoreMetadata, scoreOf } from '../../../src/engine/worker/token-scores.js';

const map = (entries: Array<[number, number]>) => new Map(entries.map(([t, p]) => [t as Token, p]));

describe('token scores', () => {
  test('mostLikely keeps the n largest probabilities, largest first, whatever order the map has', () => {
    const probabilities = map([[5, 0.1], [9, 0.4], [2, 0.05], [7, 0.3], [1, 0.15]]);
    assert.deepEqual(mostLikely(probabilities, 3), [
      { token: 9, probability: 0.4 },
      { token: 7, probability: 0.3 },
      { token: 1, probability: 0.15 },
    ]);
    assert.deepEqual(mostLikely(probabilities, 0), []);
    assert.equal(mostLikely(probabilities, 10).length, 5);
  });

  test('the sampled token\'s probability comes from the confidence, or from the map when only that was asked for', () => {
    assert.deepEqual(scoreOf(3 as Token, { confidence: 0.25 }, 0), { probability: 0.25, top: [] });
    assert.deepEqual(scoreOf(3 as Token, { probabilities: map([[3, 0.6], [4, 0.4]]) }, 1), { probability: 0.6, top: [{ token: 3, probability: 0.6 }] });
  });

  test('only a request for alternatives pays for the full probability list', () => {
    assert.deepEqual(scoreMetadata(0), { confidence: true });
    assert.deepEqual(scoreMetadata(5), { probabilities: true });
  });
});
