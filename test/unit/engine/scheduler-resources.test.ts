import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { harness, settle, spec } from './fakes.js';

describe('Scheduler resource limits', () => {
  test('a memory budget evicts idle models least recently used first', async () => {
    const h = harness({ memoryBudgetBytes: 250, sizes: { a: 100, b: 100, c: 100 } });
    (await h.scheduler.acquire(spec('a'))).release();
    h.clock.advance(10);
    (await h.scheduler.acquire(spec('b'))).release();
    h.clock.advance(10);
    (await h.scheduler.acquire(spec('a'))).release(); // a is now the most recently used
    const c = await h.scheduler.acquire(spec('c'));
    await settle();
    assert.deepEqual(h.scheduler.ps().map((p) => p.name).sort(), ['a', 'c']);
    assert.equal(h.handles.find((x) => x.spec.name === 'b')!.disposed, true);
    c.release();
  });

  test('a model larger than the whole budget fails with insufficient_memory naming it', async () => {
    const h = harness({ memoryBudgetBytes: 250, sizes: { big: 300 } });
    await assert.rejects(h.scheduler.acquire(spec('big')), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'insufficient_memory');
      assert.match(e.message, /big/);
      assert.equal(e.data?.neededBytes, 300);
      assert.equal(e.data?.availableBytes, 250);
      return true;
    });
  });

  test('without a budget, free memory decides and a model bigger than free plus loaded fails', async () => {
    const h = harness({ sizes: { a: 100, big: 1000 } });
    h.freeBytes.value = 500;
    (await h.scheduler.acquire(spec('a'))).release();
    await assert.rejects(h.scheduler.acquire(spec('big')), (e: unknown) => e instanceof AppError && e.code === 'insufficient_memory');
    h.freeBytes.value = 950;
    const lease = await h.scheduler.acquire(spec('big'));
    assert.deepEqual(h.scheduler.ps().map((p) => p.name), ['big']);
    lease.release();
  });

  test('when every loaded model is busy, a new model waits for room instead of failing', async () => {
    const h = harness({ memoryBudgetBytes: 150, sizes: { a: 100, b: 100 } });
    const a = await h.scheduler.acquire(spec('a'));
    let got = false;
    const b = h.scheduler.acquire(spec('b')).then((l) => ((got = true), l));
    await settle();
    assert.equal(got, false);
    assert.equal(h.scheduler.queueDepth(), 1);
    a.release();
    (await b).release();
    assert.deepEqual(h.scheduler.ps().map((p) => p.name), ['b']);
  });

  test('maxLoadedModels evicts the least recently used idle model', async () => {
    const h = harness({ maxLoadedModels: 2 });
    (await h.scheduler.acquire(spec('a'))).release();
    h.clock.advance(10);
    (await h.scheduler.acquire(spec('b'))).release();
    h.clock.advance(10);
    (await h.scheduler.acquire(spec('c'))).release();
    assert.deepEqual(h.scheduler.ps().map((p) => p.name).sort(), ['b', 'c']);
  });

  test('the sum of threads over loaded models never exceeds the thread budget', async () => {
    const h = harness({ threadBudget: 4, maxLoadedModels: 4 });
    const a = await h.scheduler.acquire(spec('a', { settings: { threads: 3 } }));
    let got = false;
    const b = h.scheduler.acquire(spec('b', { settings: { threads: 2 } })).then((l) => ((got = true), l));
    await settle();
    assert.equal(got, false, 'b must wait: 3 + 2 threads exceed the budget of 4');
    const c = await h.scheduler.acquire(spec('c'));
    assert.equal(h.scheduler.ps().find((p) => p.name === 'c')?.threads, 1, 'default share is floor(4 / 4)');
    c.release();
    a.release();
    (await b).release();
    const total = h.scheduler.ps().reduce((s, p) => s + p.threads, 0);
    assert.ok(total <= 4, `threads in use ${total}`);
    assert.ok(h.scheduler.ps().some((p) => p.name === 'b'));
  });

  test('threads asked beyond the budget are capped at the budget', async () => {
    const h = harness({ threadBudget: 2 });
    (await h.scheduler.acquire(spec('a', { settings: { threads: 16 } }))).release();
    assert.equal(h.scheduler.ps()[0]?.threads, 2);
  });

  test('a lone model with default threads uses the whole budget and gives half back when a second model loads', async () => {
    const h = harness({ threadBudget: 2, maxLoadedModels: 2 });
    const a = await h.scheduler.acquire(spec('a'));
    const handleA = h.handles.find((x) => x.spec.name === 'a')!;
    assert.equal(handleA.settings.threads, 1, 'guaranteed: floor(2 / 2)');
    assert.equal(handleA.settings.maxThreads, 2);
    assert.deepEqual(handleA.threadChanges, [2], 'given the whole budget before its load started');
    assert.equal(h.scheduler.ps()[0]?.threads, 2);
    const b = await h.scheduler.acquire(spec('b'));
    assert.deepEqual(handleA.threadChanges, [2, 1], 'a gives a thread back for b');
    assert.deepEqual(h.handles.find((x) => x.spec.name === 'b')!.threadChanges, [], 'b keeps its guaranteed thread');
    assert.deepEqual(Object.fromEntries(h.scheduler.ps().map((p) => [p.name, p.threads])), { a: 1, b: 1 });
    b.release();
    await h.scheduler.unload({ models: ['b'] });
    await settle();
    assert.deepEqual(handleA.threadChanges, [2, 1, 2], 'a has the whole budget again once b is gone');
    a.release();
  });

  test('a model whose settings name threads keeps that count however much of the budget is free', async () => {
    const h = harness({ threadBudget: 4, maxLoadedModels: 2 });
    (await h.scheduler.acquire(spec('a', { settings: { threads: 1 } }))).release();
    assert.equal(h.scheduler.ps()[0]?.threads, 1);
    assert.deepEqual(h.handles[0]!.threadChanges, []);
  });
});
