import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StopMatcher } from '../../../src/engine/worker/stop-matcher.js';

describe('StopMatcher', () => {
  test('text that cannot start a stop string is released at once', () => {
    const m = new StopMatcher(['END']);
    assert.deepEqual(m.push('hello '), { text: 'hello ' });
  });

  test('only the tail that may start a stop string is held back', () => {
    const m = new StopMatcher(['END']);
    assert.deepEqual(m.push('abcE'), { text: 'abc' });
    assert.deepEqual(m.push('Nx'), { text: 'ENx' });
  });

  test('a stop string split across chunks is found and dropped with what follows', () => {
    const m = new StopMatcher(['<stop>']);
    assert.deepEqual(m.push('one <st'), { text: 'one ' });
    const r = m.push('op> two');
    assert.equal(r.text, '');
    assert.equal(r.match?.stop, '<stop>');
    assert.equal(r.rest, ' two');
  });

  test('the earliest of several stop strings wins and flush releases the held tail', () => {
    const m = new StopMatcher(['bb', 'a']);
    assert.equal(m.push('xxbba').match?.stop, 'bb');
    const n = new StopMatcher(['abc']);
    assert.equal(n.push('zab').text, 'z');
    assert.equal(n.flush(), 'ab');
  });
});
