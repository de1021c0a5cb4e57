/**
 * The `<partial>.chunks` sidecar of a chunked download: which byte ranges of the partial file
 * are finished. Ranges rather than chunk numbers, so that a download resumed under another
 * chunk plan (see chunk-planner.ts) keeps every finished byte. A sidecar written by an older
 * version (chunk numbers and their fixed chunk size) is read as the ranges it stands for.
 *
 * Replaced with a rename so that a reader never sees half a list, but never fsynced: the chunks
 * it names are not fsynced either (the store syncs the blob once, at commit), so a sync here
 * would buy no guarantee, and each one stalled the connection that had just finished a chunk.
 * After a crash a stale or optimistic list is caught by the final digest check.
 */
import { promises as fs } from 'node:fs';
import { readJsonFile, tempPathFor } from '../util/atomic-file.js';
import { type ByteRange, isRangeWithin } from './byte-ranges.js';

/** What the sidecar records: one `[start, end)` per finished chunk. */
export interface ChunkSidecar {
  digest: string;
  size: number;
  done: ByteRange[];
}

/** The sidecar as stored; `chunkBytes` with numbered chunks is the older form. */
interface StoredSidecar {
  digest?: unknown;
  size?: unknown;
  chunkBytes?: unknown;
  done?: unknown;
}

/** The finished ranges a stored record lists; entries that make no sense for `size` are dropped. */
function rangesOf(stored: StoredSidecar, size: number): ByteRange[] {
  if (!Array.isArray(stored.done)) return [];
  const ranges: ByteRange[] = [];
  const chunkBytes = stored.chunkBytes;
  for (const entry of stored.done as unknown[]) {
    if (isRangeWithin(entry, size)) ranges.push([entry[0], entry[1]]);
    else if (Number.isSafeInteger(entry) && Number.isSafeInteger(chunkBytes) && (chunkBytes as number) > 0) {
      const start = (entry as number) * (chunkBytes as number);
      const range: ByteRange = [start, Math.min(size, start + (chunkBytes as number))];
      if (isRangeWithin(range, size)) ranges.push(range);
    }
  }
  return ranges;
}

/** The record, or undefined when it is missing or unreadable. */
export async function readSidecar(file: string): Promise<ChunkSidecar | undefined> {
  const stored = await readJsonFile<StoredSidecar>(file).catch(() => undefined);
  if (!stored || typeof stored.digest !== 'string' || !Number.isSafeInteger(stored.size)) return undefined;
  const size = stored.size as number;
  return { digest: stored.digest, size, done: rangesOf(stored, size) };
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
