import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FirstIdle } from '../../../src/engine/first-idle.js';
import type { GenerateRequest } from '../../../src/engine/types.js';

const request = { kind: 'completion', prompt: 'hi', sampling: {} } as GenerateRequest;
const ready = { type: 'ready', info: {} } as const;
const done = (id: number) => ({ type: 'event', id, event: { type: 'done' } }) as never;

/** A FirstIdle whose deferred checks run only when the test says so. */
function watched() {
  let fired = 0;
  const deferred: Array<() => void> = [];
  const idle = new FirstIdle(
    () => fired++,
    (check) => deferred.push(check),
  );
  return { idle, fired: () => fired, runDeferred: () => deferred.splice(0).forEach((check) => check()) };
}

describe('the first idle moment of a freshly loaded engine', () => {
  test('a load nobody waits on is idle once the check after ready runs', () => {
    const { idle, fired, runDeferred } = watched();
    idle.received(ready as never);
    assert.equal(fired(), 0, 'not in the same turn as ready: the waiting request is sent in the microtasks after it');
    runDeferred();
    assert.equal(fired(), 1);
  });

  test('the request that waited on the load holds it off until its answer is done, text events do not', () => {
    const { idle, fired, runDeferred } = watched();
    idle.received(ready as never);
    idle.sent({ type: 'generate', id: 7, request });
    runDeferred();
    idle.received({ type: 'event', id: 7, event: { type: 'text', text: 'a' } } as never);
    assert.equal(fired(), 0);
    idle.received(done(7));
    assert.equal(fired(), 1);
  });

  test('every request in flight must be answered, by a result, an error or a done event', () => {
    const { idle, fired, runDeferred } = watched();
    idle.received(ready as never);
    idle.sent({ type: 'generate', id: 1, request });
    idle.sent({ type: 'tokenize', id: 2, text: 'x' });
    idle.sent({ type: 'generate', id: 3, request });
    idle.sent({ type: 'cancel', id: 3 });
    runDeferred();
    idle.received({ type: 'result', id: 2, value: [1] });
    idle.received(done(1));
    assert.equal(fired(), 0, 'request 3 is cancelled but not yet answered');
    idle.received({ type: 'error', id: 3, error: { code: 'cancelled', message: 'x' } } as never);
    assert.equal(fired(), 1);
  });

  test('answers before the model is ready do not count as idle, and it fires only once', () => {
    const { idle, fired, runDeferred } = watched();
    idle.sent({ type: 'tokenize', id: 1, text: 'x' });
    idle.received({ type: 'result', id: 1, value: [] });
    assert.equal(fired(), 0, 'not ready yet');
    idle.received(ready as never);
    runDeferred();
    idle.sent({ type: 'generate', id: 2, request });
    idle.received(done(2));
    assert.equal(fired(), 1);
  });

  test('a load that fails is idle at once', () => {
    const { idle, fired } = watched();
    idle.sent({ type: 'generate', id: 1, request });
    idle.received({ type: 'load-error', error: { code: 'internal', message: 'bad file' } } as never);
    assert.equal(fired(), 1);
  });
});
