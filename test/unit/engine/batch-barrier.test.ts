import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchBarrier } from '../../../src/engine/worker/batch-barrier.js';
import { FakeClock } from './fakes.js';

/** Never fires within a test: these tests are about who waits for whom, not about the clock. */
const NO_TIMEOUT = 60_000;

/** A FakeClock that counts the timers started and those still pending. */
class CountingClock extends FakeClock {
  started = 0;
  private live = new Set<unknown>();
  override setTimeout(callback: () => void, ms: number): unknown {
    this.started++;
    const id = super.setTimeout(() => {
      this.live.delete(id);
      callback();
    }, ms);
    this.live.add(id);
    return id;
  }
  override clearTimeout(handle: unknown): void {
    this.live.delete(handle);
    super.clearTimeout(handle);
  }
  get pending(): number {
    return this.live.size;
  }
}

/** Lets pending timers' neighbours run: a few turns of the event loop. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

function tracked(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

/** Two participants that are both generating: the second joined with the first one's first token. */
async function twoRunning(timeoutMs = NO_TIMEOUT, clock?: FakeClock): Promise<BatchBarrier> {
  const barrier = new BatchBarrier(timeoutMs, clock);
  await barrier.join(0);
  await Promise.all([barrier.join(1), barrier.arrive(0)]);
  return barrier;
}

describe('BatchBarrier', () => {
  test('a participant that arrives waits until every other participant has arrived', async () => {
    const barrier = await twoRunning();
    const first = tracked(barrier.arrive(0));
    await turns();
    assert.equal(first.done, false);
    const second = tracked(barrier.arrive(1));
    await turns();
    assert.deepEqual([first.done, second.done], [true, true]);
  });

  test('the release comes after the microtasks queued when the last participant arrived', async () => {
    const barrier = await twoRunning();
    const first = barrier.arrive(0);
    const last = barrier.arrive(1);
    let chainFinished = false;
    let chain = Promise.resolve();
    for (let i = 0; i < 100; i++) chain = chain.then(() => undefined);
    void chain.then(() => (chainFinished = true));
    await first;
    assert.equal(chainFinished, true, 'node-llama-cpp checks its queue in such a chain; it must see it empty');
    await last;
  });

  test('a participant that leaves releases those waiting for it', async () => {
    const barrier = await twoRunning();
    const waiting = tracked(barrier.arrive(0));
    await turns();
    assert.equal(waiting.done, false);
    barrier.leave();
    await turns();
    assert.equal(waiting.done, true);
    assert.equal(barrier.size, 1);
  });

  test('a joiner is released together with the next arrivals of those already generating', async () => {
    const barrier = await twoRunning();
    const order: string[] = [];
    const joiner = barrier.join(2).then(() => order.push('joiner'));
    await turns();
    assert.equal(order.length, 0);
    const a = barrier.arrive(0).then(() => order.push('a'));
    const b = barrier.arrive(1).then(() => order.push('b'));
    await Promise.all([joiner, a, b]);
    assert.deepEqual(order.sort(), ['a', 'b', 'joiner']);
    assert.equal(barrier.size, 3);
  });

  test('a lone participant arriving after its token starts no straggler timer', async () => {
    const clock = new CountingClock();
    const barrier = new BatchBarrier(NO_TIMEOUT, clock);
    await barrier.join(0);
    for (let i = 0; i < 3; i++) await barrier.arrive(0);
    assert.equal(clock.started, 0);
  });

  test('the first of two to arrive starts the straggler timer and the second clears it', async () => {
    const clock = new CountingClock();
    const barrier = await twoRunning(NO_TIMEOUT, clock);
    const started = clock.started;
    const both = Promise.all([barrier.arrive(0), barrier.arrive(1)]);
    assert.equal(clock.started, started + 1);
    assert.equal(clock.pending, 0);
    await both;
  });

  test('a first joiner with nobody else generating is released at once', async () => {
    const barrier = new BatchBarrier(NO_TIMEOUT);
    await barrier.join(0);
    assert.equal(barrier.size, 1);
  });

  test('arrived participants stop waiting for a straggler once the timeout passes, and not before', async () => {
    const clock = new FakeClock();
    const barrier = await twoRunning(20, clock);
    const first = tracked(barrier.arrive(0)); // the other participant never arrives
    clock.advance(19);
    await turns();
    assert.equal(first.done, false, 'still waiting 1 ms before the timeout');
    clock.advance(1);
    await turns();
    assert.equal(first.done, true);
    assert.equal(barrier.size, 2);
  });

  test('a joiner alone does not start the straggler clock, because a batch in flight is no stall', async () => {
    const clock = new FakeClock();
    const barrier = new BatchBarrier(20, clock);
    await barrier.join(0); // now generating, its batch in flight
    const joiner = tracked(barrier.join(1));
    clock.advance(60_000);
    await turns();
    assert.equal(joiner.done, false);
    barrier.leave();
    await turns();
    assert.equal(joiner.done, true);
  });

  test('a release resumes participants by ascending sequence id, whatever order they arrived in', async () => {
    const barrier = new BatchBarrier(NO_TIMEOUT);
    await barrier.join(2);
    await Promise.all([barrier.join(0), barrier.join(3), barrier.join(1), barrier.arrive(2)]);
    const resumed: number[] = [];
    await Promise.all([3, 1, 2, 0].map((id) => barrier.arrive(id).then(() => resumed.push(id))));
    assert.deepEqual(resumed, [0, 1, 2, 3]);
  });
});
