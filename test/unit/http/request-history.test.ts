import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_MODELS, RequestHistory, type RequestRecord } from '../../../src/http/common/request-history.js';

const record = (model: string, id: string): RequestRecord => ({ id, model, method: 'POST', url: '/engines/v1/chat/completions', status_code: 200, timestamp: '', duration_ms: 1 });

describe('the request history', () => {
  test('keeps the newest records per model, lists them newest first and models in name order', () => {
    const history = new RequestHistory({ perModel: 2 });
    for (const id of ['a1', 'a2', 'a3']) history.add(record('b/model', id));
    history.add(record('a/model', 'x1'));
    assert.deepEqual(history.list().map((l) => [l.model, l.count, l.records.map((r) => r.id)]), [
      ['a/model', 1, ['x1']],
      ['b/model', 2, ['a3', 'a2']],
    ]);
    assert.deepEqual(history.list('b/model').map((l) => l.model), ['b/model']);
    assert.deepEqual(history.list('c/model'), []);
  });

  test('keeps nothing when its size is 0', () => {
    const history = new RequestHistory({ perModel: 0 });
    history.add(record('m', '1'));
    assert.deepEqual(history.list(), []);
  });

  test('keeps the models asked for most recently when clients name more than it holds, and cuts absurdly long names', () => {
    const history = new RequestHistory({ perModel: 1 });
    history.add(record('kept', '0'));
    for (let i = 0; i < MAX_MODELS * 3; i++) {
      history.add(record(`invented-${i}`, String(i)));
      if (i % 10 === 0) history.add(record('kept', `k${i}`));
    }
    const models = history.list().map((l) => l.model);
    assert.equal(models.length, MAX_MODELS);
    assert.ok(models.includes('kept'), 'a model still asked for stays');
    assert.ok(!models.includes('invented-0'), 'the least recently asked go first');
    history.add(record('x'.repeat(100_000), 'long'));
    assert.ok(history.list().every((l) => l.model.length <= 256));
  });
});
