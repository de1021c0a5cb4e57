import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LlamaContextSequence, Token } from '#node-llama-cpp';
import { SequencePool } from '../../../src/engine/worker/sequence-pool.js';
import { recordSequenceOrder } from '../../../src/engine/worker/sequence-order.js';

type FakeSequence = LlamaContextSequence & { id: number; cleared: boolean };

/** A stand-in for a context sequence: the pool asks how much of a prompt it holds, how many cells, and may clear it. */
function fakeSequence(id: number, history: number[] = []): FakeSequence {
  let held = [...history];
  const seq = {
    id,
    cleared: false,
    get nextTokenIndex() {
      return held.length;
    },
    compareContextTokens(tokens: Token[]) {
      let i = 0;
      while (i < held.length && i < tokens.length && held[i] === tokens[i]) i++;
      return { firstDifferentIndex: i };
    },
    async clearHistory() {
      held = [];
      seq.cleared = true;
    },
  };
  return seq as unknown as FakeSequence;
}

const idOf = (seq: LlamaContextSequence) => (seq as FakeSequence).id;

const signal = new AbortController().signal;
const prompt = [1, 2, 3] as Token[];

describe('SequencePool', () => {
  test('a request gets the free sequence that already holds the longest prefix of its prompt', async () => {
    const pool = new SequencePool([fakeSequence(0, [9]), fakeSequence(1, [1, 2]), fakeSequence(2, [1])]);
    const seq = (await pool.acquire(prompt, signal)) as LlamaContextSequence & { id: number };
    assert.equal(seq.id, 1);
  });

  test('among equally good sequences the lowest id wins, whatever order they were released in', async () => {
    const sequences = [0, 1, 2, 3].map((id) => fakeSequence(id));
    recordSequenceOrder(sequences); // as load.ts does for a fresh context
    const pool = new SequencePool(sequences);
    const lent = await Promise.all(sequences.map(() => pool.acquire(prompt, signal)));
    for (const id of [3, 1, 2, 0]) pool.release(lent[id]!);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(((await pool.acquire(prompt, signal)) as LlamaContextSequence & { id: number }).id);
    assert.deepEqual(ids, [0, 1, 2, 3]);
  });

  test('a prompt that shares only its first token with a cached conversation goes to an empty sequence', async () => {
    const sequences = [fakeSequence(0, [1, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]), fakeSequence(1)];
    recordSequenceOrder(sequences);
    const pool = new SequencePool(sequences);
    assert.equal(idOf(await pool.acquire([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as Token[], signal)), 1);
  });

  test('with no empty sequence, a dissimilar prompt goes to the one released longest ago', async () => {
    const sequences = [fakeSequence(0, [5]), fakeSequence(1, [6]), fakeSequence(2, [7])];
    recordSequenceOrder(sequences);
    const pool = new SequencePool(sequences);
    const lent = await Promise.all(sequences.map((s) => pool.acquire([idOf(s) + 5] as Token[], signal)));
    for (const id of [1, 2, 0]) pool.release(lent.find((s) => idOf(s) === id)!);
    assert.equal(idOf(await pool.acquire(prompt, signal)), 1);
  });

  test('making room in a shared cache clears idle sequences, least recently used first, only until enough cells are free', async () => {
    const sequences = [fakeSequence(0, [1, 1, 1, 1]), fakeSequence(1, [2, 2, 2, 2]), fakeSequence(2, [3, 3, 3, 3]), fakeSequence(3)];
    recordSequenceOrder(sequences);
    const pool = new SequencePool(sequences);
    const lent = await Promise.all(sequences.map((s) => pool.acquire([idOf(s) + 1] as Token[], signal)));
    const byId = (id: number) => lent.find((s) => idOf(s) === id)!;
    for (const id of [2, 0]) pool.release(byId(id)); // 1 and 3 stay in use
    // 16 cells, 12 held: 8 needed means clearing one idle sequence (2, released first), not both.
    await pool.makeRoom(8, 16);
    assert.deepEqual(sequences.map((s) => s.cleared), [false, false, true, false]);
    // Sequence 1 is in use: however much is asked, it is never cleared.
    await pool.makeRoom(16, 16);
    assert.deepEqual(sequences.map((s) => s.cleared), [true, false, true, false]);
  });

  test('idle sequences lent out to be parked are given to no request until they come back, and coming back keeps their place in the eviction order', async () => {
    const sequences = [fakeSequence(0, [1, 1]), fakeSequence(1, [2, 2]), fakeSequence(2), fakeSequence(3, [4, 4])];
    recordSequenceOrder(sequences);
    const pool = new SequencePool(sequences);
    const lent = await Promise.all(sequences.map((s) => pool.acquire([idOf(s) + 1] as Token[], signal)));
    const byId = (id: number) => lent.find((s) => idOf(s) === id)!;
    for (const id of [1, 0, 2]) pool.release(byId(id)); // 3 stays in use
    const idle = pool.takeIdle();
    assert.deepEqual(idle.map(idOf).sort(), [0, 1], 'only the free sequences that hold tokens are lent');
    // Only the empty one is left to take, even for the prompt sequence 0 holds.
    assert.equal(idOf(await pool.acquire([1, 1] as Token[], signal)), 2);
    for (const seq of idle.sort((a, b) => idOf(a) - idOf(b))) pool.release(seq, false);
    // Sequence 1 was released before 0, and both came back in the other order: 1 is still the first to be cleared.
    await pool.makeRoom(4, 8);
    assert.deepEqual(sequences.map((s) => s.cleared), [false, true, false, false]);
    assert.equal(idOf(await pool.acquire([1, 1] as Token[], signal)), 0, 'sequence 0 is back and still holds its prompt');
  });

  test('a request that finds every sequence lent waits for the next release', async () => {
    const only = fakeSequence(0);
    const pool = new SequencePool([only]);
    const first = await pool.acquire(prompt, signal);
    const second = pool.acquire(prompt, signal);
    pool.release(first);
    assert.equal(await second, only);
  });

  test('a waiting request that is cancelled fails with an error that says so', async () => {
    const pool = new SequencePool([fakeSequence(0)]);
    await pool.acquire(prompt, signal);
    const controller = new AbortController();
    const waiting = pool.acquire(prompt, controller.signal);
    controller.abort();
    await assert.rejects(waiting, /cancelled while waiting for a free sequence/);
  });
});
