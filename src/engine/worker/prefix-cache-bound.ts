/**
 * Keeps the prompt cache directory within its byte bound: lists every model's saved prefixes,
 * removes the least recently used until the rest fit (filesToEvict), and removes temp files that
 * a crashed save left behind. Several Workers may run this at once; each removal tolerates a file
 * another one removed first.
 */
import { promises as fs } from 'node:fs';
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
  for (const dir of await listDirs(root)) {
    for (const name of await list(dir)) {
      const file = path.join(dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) continue;
      if (name.endsWith(PREFIX_FILE_SUFFIX)) files.push({ path: file, bytes: stat.size, lastUsedMs: stat.mtimeMs });
      else if (name.endsWith(TEMP_SUFFIX) && now - stat.mtimeMs > STALE_TEMP_MS && (await remove(file))) removed.push(file);
    }
  }
  for (const file of filesToEvict(files, maxBytes)) if (await remove(file)) removed.push(file);
  return removed;
}

async function listDirs(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(root, e.name));
}

async function list(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => []);
}

async function remove(file: string): Promise<boolean> {
  try {
    await fs.rm(file, { force: true });
    return true;
  } catch {
    return false;
  }
}
