/**
 * Resident memory with the model loaded, ours against llama-server's: both servers of a
 * comparison, read after the rounds, when both have served the same requests at the same
 * settings (matched, or each at its own defaults). The reading covers a server's process and its
 * descendants (process.ts), so helpers a server keeps count against it. A model's first request
 * runs its admission check in child processes, one of which stays warm for a while in case more
 * models arrive (engine/admission-child-process.ts): the reading waits for them to go, so that it
 * is the server's steady state with the model loaded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SPARE_IDLE_MS } from '../../engine/admission-child-process.js';
import { processTree, processTreeRssBytes } from './process.js';
import type { RunningServer } from './servers.js';

/** One pair of readings, in bytes; undefined where /proc could not be read. */
export interface MemoryResult {
  oursBytes?: number;
  peerBytes?: number;
}

export async function measureMemory(running: { ours: RunningServer; peer: RunningServer }): Promise<MemoryResult> {
  const until = Date.now() + SPARE_IDLE_MS + 5_000;
  while ((await processTree(running.ours.pid)).length > 1 && Date.now() < until) await sleep(1_000);
  return { oursBytes: await processTreeRssBytes(running.ours.pid), peerBytes: await processTreeRssBytes(running.peer.pid) };
}
