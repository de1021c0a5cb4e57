/**
 * Keeps the prompt cache directory within its byte bound: lists every model's saved prefixes,
 * removes the least recently used until the rest fit (filesToEvict), and removes temp files that
 * a crashed save left behind. Several Workers may run this at once; each removal tolerates a file
 * another one removed first.
 *
 * The listing stats every file of the cache, after every park, while the request that caused the
 * park evaluates its prompt on the same cores. It uses the synchronous calls on purpose: through
 * libuv's pool each stat cost ~40 us of CPU (a task, a wake-up and a promise), synchronously ~10 us
 * (300 files: 11-27 ms of CPU against 3-5 ms, 2-vCPU AMD EPYC); it runs in a model's Worker,
 * never on the server's main thread, and the cache's inodes are normally in memory (every load
 * reads each file's trailer).
 */
import { promises as fs, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { TEMP_SUFFIX } from '../../util/atomic-file.js';
import { filesToEvict, type CacheFile } from './prefix-cache-policy.js';

/** Suffix of a saved prefix file; the name before it is its key. */
export const PREFIX_FILE_SUFFIX = '.kv';
/** A temp file this old belongs to no save in progress (a save takes seconds at most). */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** Removes what is over `maxBytes`; returns the paths removed. Never throws: the cache is an optimisation. */
export async function enforceCacheBound(root: string, maxBytes: number, now = Date.now()): Promise<string[]> {
  const files: CacheFile[] = [];
  const removed: string[] = [];
  for (const dir of listDirs(root)) {
    for (const name of list(dir)) {
      const file = path.join(dir, name);
      const stat = statOf(file);
      if (!stat?.isFile()) continue;
      if (name.endsWith(PREFIX_FILE_SUFFIX)) files.push({ path: file, bytes: stat.size, lastUsedMs: stat.mtimeMs });
      else if (name.endsWith(TEMP_SUFFIX) && now - stat.mtimeMs > STALE_TEMP_MS && (await remove(file))) removed.push(file);
    }
  }
  for (const file of filesToEvict(files, maxBytes)) if (await remove(file)) removed.push(file);
  return removed;
}

function listDirs(root: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(root, e.name));
}

function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function remove(file: string): Promise<boolean> {
  try {
    await fs.rm(file, { force: true });
    return true;
  } catch {
    return false;
  }
}
