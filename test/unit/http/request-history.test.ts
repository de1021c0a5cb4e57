import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestHistory, type RequestRecord } from '../../../src/http/common/request-history.js';

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
});
