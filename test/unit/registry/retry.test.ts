import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRetryAfter } from '../../../src/registry/retry.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('reading Retry-After', () => {
  test('delay-seconds become milliseconds', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
  });

  test('the three HTTP date forms become the time left until them', () => {
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 12:00:30 GMT', NOW), 30_000);
    assert.equal(parseRetryAfter('Tuesday, 01-Jan-30 12:01:00 GMT', NOW), 60_000);
    // asctime carries no zone; read as local time it is only checked to parse.
    assert.equal(typeof parseRetryAfter('Tue Jan  1 12:00:30 2030', NOW), 'number');
  });

  test('a date already past means no wait', () => {
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 11:00:00 GMT', NOW), 0);
  });

  test('anything else is no Retry-After at all', () => {
    for (const value of [undefined, '', 'soon', '1.5', '-3', 'Tue, 01 Jan 2030', 42]) assert.equal(parseRetryAfter(value, NOW), undefined, String(value));
  });
});
