import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { ResponseStore, type StoredResponse } from '../../../src/responses/store.js';

function stored(id: string): StoredResponse {
  return { response: { id, object: 'response' }, conversation: [{ type: 'message', role: 'user', content: id }] };
}

function notFound(reason: 'expired' | 'unknown') {
  return (err: unknown) => {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'not_found');
    assert.equal(err.data?.reason, reason);
    assert.match(err.message, reason === 'expired' ? /has expired/ : /not found/);
    return true;
  };
}

describe('ResponseStore', () => {
  test('a stored response comes back by its id', () => {
    const store = new ResponseStore();
    store.put('resp_a', stored('resp_a'));
    assert.deepEqual(store.get('resp_a'), stored('resp_a'));
  });

  test('an id never stored is not found, and the error says it is unknown rather than expired', () => {
    const store = new ResponseStore();
    assert.throws(() => store.get('resp_nope'), notFound('unknown'));
  });

  test('a response older than the time to live expires, and its lookup says it expired', () => {
    let now = 1_000;
    const store = new ResponseStore({ ttlMs: 500, now: () => now });
    store.put('resp_a', stored('resp_a'));
    now += 499;
    assert.equal(store.get('resp_a').response.id, 'resp_a');
    now += 1;
    assert.throws(() => store.get('resp_a'), notFound('expired'));
    assert.equal(store.size, 0);
  });

  test('storing past the count bound drops the oldest first', () => {
    const store = new ResponseStore({ maxEntries: 2 });
    store.put('resp_1', stored('resp_1'));
    store.put('resp_2', stored('resp_2'));
    store.put('resp_3', stored('resp_3'));
    assert.equal(store.size, 2);
    assert.throws(() => store.get('resp_1'), notFound('expired'));
    assert.equal(store.get('resp_3').response.id, 'resp_3');
  });

  test('a deleted response is gone, and deleting it again is not found', () => {
    const store = new ResponseStore();
    store.put('resp_a', stored('resp_a'));
    store.delete('resp_a');
    assert.throws(() => store.get('resp_a'), notFound('unknown'));
    assert.throws(() => store.delete('resp_a'), notFound('unknown'));
  });

  test('a zero bound keeps nothing', () => {
    const store = new ResponseStore({ maxEntries: 0 });
    store.put('resp_a', stored('resp_a'));
    assert.equal(store.size, 0);
  });

  test('the error names the request field it came from when one is given', () => {
    const store = new ResponseStore();
    assert.throws(
      () => store.get('resp_x', 'previous_response_id'),
      (err: unknown) => err instanceof AppError && err.data?.param === 'previous_response_id',
    );
  });
});
