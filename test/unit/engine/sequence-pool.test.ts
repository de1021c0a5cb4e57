import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { SequencePool } from '../../../src/engine/worker/sequence-pool.js';
import { recordSequenceOrder } from '../../../src/engine/worker/sequence-order.js';

/** A stand-in for a context sequence: the pool only asks how much of a prompt it already holds. */
function fakeSequence(id: number, history: number[] = []): LlamaContextSequence & { id: number } {
  return {
    id,
    compareContextTokens(tokens: Token[]) {
      let i = 0;
      while (i < history.length && i < tokens.length && history[i] === tokens[i]) i++;
      return { firstDifferentIndex: i };
    },
  } as unknown as LlamaContextSequence & { id: number };
}

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
