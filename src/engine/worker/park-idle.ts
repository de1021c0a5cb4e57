/**
 * Parks the sequences that sit idle in a shared (unified) KV cache when a request starts: their
 * states go to the prompt cache's files and their cells are erased; a later request with the same
 * prefix restores the state (SavedPrefixes.restoreInto), as llama-server does at its defaults
 * with its idle slots and its RAM prompt cache.
 *
 * Why not keep them where they are: llama.cpp computes attention over every cell up to the highest
 * one in use, whichever sequence owns it (masked, but still paid for). Measured on a 2-vCPU AMD
 * EPYC with a 135M-parameter Q8_0 model: after two ~3,000-token prompts stayed cached, a short
 * request decoded at 68-76 tok/s instead of 102 and evaluated its prompt at 0.6x the speed;
 * llama-server, told to keep its idle slots (--no-cache-idle-slots), fell the same way.
 */
import type { LlamaContextSequence } from '#node-llama-cpp';
import type { SavedPrefixes } from './saved-prefixes.js';
import type { SequencePool } from './sequence-pool.js';

/** Parks every idle sequence of `pool` that holds tokens; one that cannot be parked keeps its cells. */
export async function parkIdleSequences(pool: SequencePool, saved: SavedPrefixes): Promise<void> {
  const idle: LlamaContextSequence[] = pool.takeIdle();
  try {
    for (const seq of idle) await saved.park(seq);
  } finally {
    for (const seq of idle) pool.release(seq, false);
  }
}
