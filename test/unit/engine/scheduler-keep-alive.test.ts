import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { harness, settle, spec } from './fakes.js';

describe('Scheduler keep-alive', () => {
  test('an idle model unloads when the default keep-alive expires, not before', async () => {
    const h = harness({ defaultKeepAlive: '5m' });
    (await h.scheduler.acquire(spec('a'))).release();
    const entry = h.scheduler.ps()[0]!;
    assert.equal(entry.expiresAt, new Date(h.clock.now() + 300_000).toISOString());
    h.clock.advance(299_999);
    await settle();
    assert.equal(h.scheduler.ps().length, 1);
    h.clock.advance(1);
    await settle();
    assert.equal(h.scheduler.ps().length, 0);
    assert.equal(h.handles[0]!.disposed, true);
  });

  test('a keep-alive of 0 unloads right after the request', async () => {
    const h = harness();
    (await h.scheduler.acquire(spec('a'), { keepAlive: 0 })).release();
    await settle();
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('a negative keep-alive never unloads', async () => {
    const h = harness();
    (await h.scheduler.acquire(spec('a'), { keepAlive: '-1' })).release();
    assert.equal(h.scheduler.ps()[0]?.expiresAt, null);
    h.clock.advance(1e9);
    await settle();
    assert.equal(h.scheduler.ps().length, 1);
  });

  test('the per-request keep-alive overrides the model setting, which overrides the default', async () => {
    const h = harness({ defaultKeepAlive: '5m' });
    (await h.scheduler.acquire(spec('a', { settings: { keepAlive: '10s' } }))).release();
    assert.equal(h.scheduler.ps()[0]?.keepAlive, '10s');
    (await h.scheduler.acquire(spec('a', { settings: { keepAlive: '10s' } }), { keepAlive: '1h' })).release();
    assert.equal(h.scheduler.ps()[0]?.keepAlive, '1h');
    h.clock.advance(3_599_000);
    await settle();
    assert.equal(h.scheduler.ps().length, 1);
    h.clock.advance(1000);
    await settle();
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('a model in use does not expire, and its timer restarts on the last release', async () => {
    const h = harness({ defaultKeepAlive: '1m' });
    const lease = await h.scheduler.acquire(spec('a'));
    assert.equal(h.scheduler.ps()[0]?.expiresAt, null);
    h.clock.advance(120_000);
    await settle();
    assert.equal(h.scheduler.ps().length, 1);
    lease.release();
    h.clock.advance(59_000);
    await settle();
    assert.equal(h.scheduler.ps().length, 1);
    h.clock.advance(1000);
    await settle();
    assert.equal(h.scheduler.ps().length, 0);
  });

  test('an invalid keep-alive is refused as a bad request', async () => {
    const h = harness();
    await assert.rejects(h.scheduler.acquire(spec('a'), { keepAlive: 'soon' }), /invalid keep_alive/);
  });
});
