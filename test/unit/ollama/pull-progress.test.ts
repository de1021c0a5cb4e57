import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PullStatusMapper, shortDigest } from '../../../src/ollama/pull-progress.js';

const L1 = `sha256:${'1'.repeat(12)}${'f'.repeat(52)}`;

describe('pull progress mapping', () => {
  test('layer progress becomes "pulling <12 hex>" with digest, total and completed, after one "pulling manifest"', () => {
    const mapper = new PullStatusMapper();
    const first = mapper.map({ type: 'progress', message: 'Downloaded: 0.50 MB', total: 2000, layer: { id: L1, size: 1000, current: 500 }, mode: 'pull' });
    const second = mapper.map({ type: 'progress', message: 'Downloaded: 1.00 MB', total: 2000, layer: { id: L1, size: 1000, current: 1000 }, mode: 'pull' });
    assert.deepEqual(first, [
      { status: 'pulling manifest' },
      { status: 'pulling 111111111111', digest: L1, total: 1000, completed: 500 },
    ]);
    assert.deepEqual(second, [{ status: 'pulling 111111111111', digest: L1, total: 1000, completed: 1000 }]);
  });

  test('success closes with verifying, writing manifest and success, once', () => {
    const mapper = new PullStatusMapper();
    mapper.map({ type: 'progress', message: '', layer: { id: L1, size: 1, current: 1 } });
    assert.deepEqual(mapper.map({ type: 'success', message: 'Model pulled successfully', mode: 'pull' }), [
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ]);
    assert.deepEqual(mapper.finish(), []);
  });

  test('a cached pull, which reports only success, still opens with "pulling manifest"', () => {
    const mapper = new PullStatusMapper();
    assert.deepEqual(
      mapper.map({ type: 'success', message: 'Using cached model: 256.35MiB' }).map((s) => s.status),
      ['pulling manifest', 'verifying sha256 digest', 'writing manifest', 'success'],
    );
  });

  test('warnings produce no status', () => {
    const mapper = new PullStatusMapper();
    mapper.opening();
    assert.deepEqual(mapper.map({ type: 'warning', message: 'slow registry' }), []);
  });

  test('short digests drop the algorithm and keep 12 hex digits', () => {
    assert.equal(shortDigest(L1), '111111111111');
    assert.equal(shortDigest('abcdef0123456789'), 'abcdef012345');
  });
});
