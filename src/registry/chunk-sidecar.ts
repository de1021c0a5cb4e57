/**
 * The `<partial>.chunks` sidecar of a chunked download: which chunks are finished. Replaced
 * with a rename so that a reader never sees half a list, but never fsynced: the chunks it
 * names are not fsynced either (the store syncs the blob once, at commit), so a sync here
 * would buy no guarantee, and each one stalled the connection that had just finished a chunk.
 * After a crash a stale or optimistic list is caught by the final digest check.
 */
import { promises as fs } from 'node:fs';
import { readJsonFile, tempPathFor } from '../util/atomic-file.js';

/** What the sidecar records; a sidecar for another blob or chunk size is ignored. */
export interface ChunkSidecar {
  digest: string;
  size: number;
  chunkBytes: number;
  done: number[];
}

export function readSidecar(file: string): Promise<ChunkSidecar | undefined> {
  return readJsonFile<ChunkSidecar>(file).catch(() => undefined);
}

export async function writeSidecar(file: string, record: ChunkSidecar): Promise<void> {
  const temp = tempPathFor(file);
  try {
    await fs.writeFile(temp, JSON.stringify(record));
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
