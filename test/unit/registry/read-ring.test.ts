import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadRing } from '../../../src/registry/read-ring.js';

describe('shared read buffers for the hash worker', () => {
  test('a connection reads into free slots, and a slot nobody kept is lent again once returned', () => {
    const ring = new ReadRing(2, 16);
    const reader = ring.reader();
    const first = reader.acquire();
    assert.equal(first.buffer, ring.shared, 'the read goes straight into shared memory');
    assert.equal(first.length, 16);
    assert.equal(ring.freeCount, 1);
    reader.release(first);
    assert.equal(ring.freeCount, 2);
    assert.equal(reader.acquire(), first, 'the same slot again');
  });

  test('a kept slot stays out of use until the worker gives it back, and says where the kept bytes start in it', () => {
    const ring = new ReadRing(2, 16);
    const reader = ring.reader();
    const slot = reader.acquire();
    const kept = ring.retain(slot.subarray(3, 9));
    assert.ok(kept);
    assert.equal(kept.offset, 3);
    reader.release(slot);
    assert.equal(ring.freeCount, 1, 'the connection cannot return a kept slot');
    assert.equal(ring.retain(slot.subarray(0, 4)), undefined, 'a slot is kept once');
    ring.giveBack(kept.slot);
    assert.equal(ring.freeCount, 2);
    ring.giveBack(kept.slot);
    assert.equal(ring.freeCount, 2, 'giving a slot back twice frees it once');
  });

  test('with every slot kept a connection reads into a buffer of its own, which can never be kept, and two connections never share one', () => {
    const ring = new ReadRing(1, 16);
    const a = ring.reader();
    const b = ring.reader();
    const slot = a.acquire();
    assert.ok(ring.retain(slot));
    a.release(slot);
    const ownA = a.acquire();
    const ownB = b.acquire();
    assert.notEqual(ownA.buffer, ring.shared);
    assert.notEqual(ownA, ownB);
    assert.equal(ownA.length, 16);
    assert.equal(ring.retain(ownA), undefined, 'bytes outside the ring must be read back from the file');
    assert.equal(a.acquire(), ownA, 'the fallback is reused, not allocated per read');
  });

  test('a connection that kept the last spare slot waits until the worker gives one back, and never longer than the worker lives', async () => {
    const ring = new ReadRing(3, 16);
    const reader = ring.reader();
    const kept: number[] = [];
    const keep = () => {
      const buffer = reader.acquire();
      kept.push(ring.retain(buffer)!.slot);
      reader.release(buffer);
    };
    keep();
    assert.equal(ring.spare(), undefined, 'two slots free: the next read and one more');
    keep();
    const wait = ring.spare();
    assert.ok(wait, 'one slot left, which the next read takes');
    let woken = false;
    void wait.then(() => (woken = true));
    await Promise.resolve();
    assert.equal(woken, false);
    ring.giveBack(kept[0]!);
    await wait;
    keep();
    keep();
    const stuck = ring.spare()!;
    assert.equal(ring.freeCount, 0);
    // The worker failed or was stopped: its kept slots will never come back on their own.
    ring.abandon();
    await stuck;
    assert.equal(ring.freeCount, 3);
  });
});
