import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { harness, settle, spec } from './fakes.js';

describe('Scheduler loading and slots', () => {
  test('concurrent first requests for one model share a single load', async () => {
    const h = harness({ manualLoad: true, defaultParallel: 3 });
    const leases = [1, 2, 3].map(() => h.scheduler.acquire(spec('a')));
    await settle();
    assert.equal(h.handles.length, 1);
    assert.equal(h.scheduler.ps()[0]?.loading, true);
    h.handles[0]!.completeLoad();
    const got = await Promise.all(leases);
    assert.equal(h.handles[0]!.loads, 1);
    assert.equal(h.scheduler.ps()[0]?.inUse, 3);
    got.forEach((l) => l.release());
  });

  test('the refcount follows acquire and release, and release is idempotent', async () => {
    const h = harness({ defaultParallel: 2 });
    const a = await h.scheduler.acquire(spec('a'));
    const b = await h.scheduler.acquire(spec('a'));
    assert.equal(h.scheduler.ps()[0]?.inUse, 2);
    a.release();
    a.release();
    assert.equal(h.scheduler.ps()[0]?.inUse, 1);
    b.release();
    assert.equal(h.scheduler.ps()[0]?.inUse, 0);
  });

  test('a lease reports the resolved context size and parallel sequences', async () => {
    const h = harness({ defaultParallel: 2 });
    const lease = await h.scheduler.acquire(spec('a', { packagedContextSize: 8192, trainContextSize: 32768 }));
    assert.deepEqual(lease.settings, { contextSize: 4096, parallel: 2 });
    const small = await h.scheduler.acquire(spec('b', { trainContextSize: 512, settings: { parallel: 3 } }));
    assert.deepEqual(small.settings, { contextSize: 512, parallel: 3 });
  });

  test('requests beyond the parallel slots wait in order and get the slot on release', async () => {
    const h = harness();
    const first = await h.scheduler.acquire(spec('a'));
    const order: number[] = [];
    const second = h.scheduler.acquire(spec('a')).then((l) => (order.push(2), l));
    const third = h.scheduler.acquire(spec('a')).then((l) => (order.push(3), l));
    await settle();
    assert.equal(h.scheduler.queueDepth(), 2);
    first.release();
    (await second).release();
    (await third).release();
    assert.deepEqual(order, [2, 3]);
    assert.equal(h.handles.length, 1);
  });

  test('a full queue refuses with busy and a retry-after hint', async () => {
    const h = harness({ maxQueue: 1 });
    const held = await h.scheduler.acquire(spec('a'));
    const waiting = h.scheduler.acquire(spec('a'));
    await assert.rejects(h.scheduler.acquire(spec('a')), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'busy');
      assert.ok(typeof e.data?.retryAfterSeconds === 'number' && e.data.retryAfterSeconds >= 1);
      return true;
    });
    held.release();
    (await waiting).release();
  });

  test('an aborted waiter leaves the queue and the next waiter gets the slot', async () => {
    const h = harness();
    const held = await h.scheduler.acquire(spec('a'));
    const controller = new AbortController();
    const aborted = h.scheduler.acquire(spec('a'), { signal: controller.signal });
    const next = h.scheduler.acquire(spec('a'));
    await settle();
    assert.equal(h.scheduler.queueDepth(), 2);
    controller.abort();
    await assert.rejects(aborted, (e: unknown) => e instanceof AppError && e.code === 'aborted');
    assert.equal(h.scheduler.queueDepth(), 1);
    held.release();
    const lease = await next;
    assert.equal(h.scheduler.ps()[0]?.inUse, 1);
    lease.release();
  });

  test('a failed handle is removed and the next acquire loads a fresh one', async () => {
    const h = harness();
    const lease = await h.scheduler.acquire(spec('a'));
    h.handles[0]!.crash();
    await settle();
    assert.equal(h.scheduler.ps().length, 0);
    assert.equal(h.handles[0]!.disposed, true);
    lease.release();
    const again = await h.scheduler.acquire(spec('a'));
    assert.equal(h.handles.length, 2);
    assert.equal(h.scheduler.ps()[0]?.inUse, 1);
    again.release();
  });

  test('a retiring handle keeps serving the lease it holds, the next acquire loads a fresh one, and it is disposed when the lease ends', async () => {
    const h = harness({ defaultParallel: 2 });
    const held = await h.scheduler.acquire(spec('a'));
    h.handles[0]!.retire();
    await settle();
    assert.equal(h.handles[0]!.disposed, false, 'the request in flight runs to its end');
    assert.equal(h.scheduler.ps().length, 0, 'the retiring engine takes no new requests');
    const fresh = await h.scheduler.acquire(spec('a'));
    assert.equal(h.handles.length, 2);
    assert.equal(fresh.session, h.handles[1]);
    held.release();
    await settle();
    assert.equal(h.handles[0]!.disposed, true);
    assert.equal(h.handles[1]!.disposed, false);
    assert.equal(h.scheduler.ps()[0]?.inUse, 1);
    fresh.release();
  });

  test('an idle handle that retires is disposed at once', async () => {
    const h = harness();
    (await h.scheduler.acquire(spec('a'))).release();
    h.handles[0]!.retire();
    await settle();
    assert.equal(h.handles[0]!.disposed, true);
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('a load failure rejects every request waiting for that load', async () => {
    const h = harness({ manualLoad: true, defaultParallel: 2 });
    const a = h.scheduler.acquire(spec('a'));
    const b = h.scheduler.acquire(spec('a'));
    await settle();
    h.handles[0]!.failLoad(new AppError('bad_request', 'invalid GGUF file'));
    await assert.rejects(a, /invalid GGUF file/);
    await assert.rejects(b, /invalid GGUF file/);
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('reconfigure unloads an idle model and refuses a busy one with conflict', async () => {
    const h = harness();
    const lease = await h.scheduler.acquire(spec('a'));
    await assert.rejects(h.scheduler.reconfigure(spec('a').id), (e: unknown) => e instanceof AppError && e.code === 'conflict');
    lease.release();
    await h.scheduler.reconfigure(spec('a').id);
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('unload removes idle models by name and leaves busy ones', async () => {
    const h = harness();
    (await h.scheduler.acquire(spec('a'))).release();
    const busy = await h.scheduler.acquire(spec('b'));
    assert.equal(await h.scheduler.unload({ models: ['a', 'b'] }), 1);
    assert.deepEqual(h.scheduler.ps().map((p) => p.name), ['b']);
    busy.release();
    assert.equal(await h.scheduler.unload({ all: true }), 1);
  });

  test('close fails waiting requests and disposes every handle', async () => {
    const h = harness();
    const held = await h.scheduler.acquire(spec('a'));
    const waiting = h.scheduler.acquire(spec('a'));
    await h.scheduler.close();
    await assert.rejects(waiting, (e: unknown) => e instanceof AppError && e.code === 'unavailable');
    assert.equal(h.handles[0]!.disposed, true);
    held.release();
    await assert.rejects(h.scheduler.acquire(spec('a')), (e: unknown) => e instanceof AppError && e.code === 'unavailable');
  });
});
