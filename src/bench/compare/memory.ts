/**
 * Resident memory with the model loaded, ours against llama-server's: both servers of a
 * comparison, read after the rounds, when both have served the same requests at the same
 * settings (matched, or each at its own defaults). The reading covers a server's process and its
 * descendants (process.ts), so helpers a server keeps count against it.
 */
import { processTreeRssBytes } from './process.js';
import type { RunningServer } from './servers.js';

/** One pair of readings, in bytes; undefined where /proc could not be read. */
export interface MemoryResult {
  oursBytes?: number;
  peerBytes?: number;
}

export async function measureMemory(running: { ours: RunningServer; peer: RunningServer }): Promise<MemoryResult> {
  return { oursBytes: await processTreeRssBytes(running.ours.pid), peerBytes: await processTreeRssBytes(running.peer.pid) };
}
