import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PushStatusMapper } from '../../../src/ollama/push-progress.js';
import { createStatus } from '../../../src/ollama/status.js';

const L1 = `sha256:${'2'.repeat(12)}${'e'.repeat(52)}`;

describe('push progress mapping', () => {
  test('layer progress becomes "pushing <12 hex>" with digest, total and completed, after one "retrieving manifest"', () => {
    const mapper = new PushStatusMapper();
    const first = mapper.map({ type: 'progress', message: 'Uploaded: 0.50 MB', total: 1000, layer: { id: L1, size: 1000, current: 500 }, mode: 'push' });
    const second = mapper.map({ type: 'progress', message: 'Uploaded: 1.00 MB', total: 1000, layer: { id: L1, size: 1000, current: 1000 }, mode: 'push' });
    assert.deepEqual(first, [{ status: 'retrieving manifest' }, { status: 'pushing 222222222222', digest: L1, total: 1000, completed: 500 }]);
    assert.deepEqual(second, [{ status: 'pushing 222222222222', digest: L1, total: 1000, completed: 1000 }]);
  });

  test('a push ends with "pushing manifest" and "success"; one that reported nothing still opens with "retrieving manifest"', () => {
    const mapper = new PushStatusMapper();
    assert.deepEqual(mapper.map({ type: 'success', message: 'Model pushed successfully', mode: 'push' }), [{ status: 'retrieving manifest' }]);
    assert.deepEqual(mapper.finish(), [{ status: 'pushing manifest' }, { status: 'success' }]);
    assert.deepEqual(new PushStatusMapper().finish(), [{ status: 'retrieving manifest' }, { status: 'pushing manifest' }, { status: 'success' }]);
  });

  test("a create's steps are statuses as they are worded, and a warning is a status that says so", () => {
    assert.deepEqual(createStatus({ type: 'progress', message: 'parsing GGUF' }), [{ status: 'parsing GGUF' }]);
    assert.deepEqual(createStatus({ type: 'warning', message: 'model m cannot run here' }), [{ status: 'warning: model m cannot run here' }]);
    assert.deepEqual(createStatus({ type: 'success', message: 'done' }), []);
  });
});
