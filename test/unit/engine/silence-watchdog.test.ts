import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { SilenceWatchdog } from '../../../src/engine/silence-watchdog.js';

/** Interval and limit as the process transport sets them, scaled down: the count is what matters. */
const INTERVAL = 10;
const LIMIT = 50;

describe('the silence watchdog of an engine process', () => {
  let fired: number;
  let watchdog: SilenceWatchdog;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setInterval'] });
    fired = 0;
    watchdog = new SilenceWatchdog(LIMIT, INTERVAL, () => fired++);
  });
  afterEach(() => {
    watchdog.stop();
    mock.timers.reset();
  });

  const tick = (intervals: number) => {
    for (let i = 0; i < intervals; i++) mock.timers.tick(INTERVAL);
  };

  test('says nothing before the child has spoken once: starting the runtime is not a hang', () => {
    tick(20);
    assert.equal(fired, 0);
  });

  test('fires once the limit of silence has passed since the last message, and only once', () => {
    watchdog.heard();
    tick(4);
    assert.equal(fired, 0);
    tick(1);
    assert.equal(fired, 1);
    tick(20);
    assert.equal(fired, 1);
  });

  test('every message starts the count again', () => {
    watchdog.heard();
    for (let i = 0; i < 10; i++) {
      tick(4);
      watchdog.heard();
    }
    assert.equal(fired, 0);
  });

  test('a stopped watchdog never fires', () => {
    watchdog.heard();
    watchdog.stop();
    tick(20);
    assert.equal(fired, 0);
  });
});
