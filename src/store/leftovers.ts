/**
 * What downloads leave in blobs/sha256 besides blobs that models use: partial files together with
 * their chunk records, and complete blobs that no model names (yet). The one place that lists,
 * measures and removes them, always a partial with its record, so that no cleanup, purge or
 * sweep can leave half of a download behind.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { partialChunksFile, partialFile, PARTIAL_SUFFIX, type StorePaths } from './paths.js';

const PARTIAL_NAME = /^([0-9a-f]{64})\.incomplete$/;
const CHUNKS_NAME = /^([0-9a-f]{64})\.incomplete\.chunks$/;
const BLOB_NAME = /^[0-9a-f]{64}$/;

export interface Leftover {
  /** `sha256:<hex>` of the blob the files are (or would become). */
  digest: string;
  kind: 'partial' | 'blob';
  /** Disk space the files take (allocated blocks, not the apparent size of a sparse file). */
  bytes: number;
  /** Latest modification of any of the files. */
  mtimeMs: number;
  /** A chunk record whose partial file is gone: worth nothing, whatever its age. */
  orphanRecord?: boolean;
}

/**
 * Space a file takes on disk. A chunked download sizes its file up front and fills it in any
 * order, so its apparent size says nothing about what is already there; the blocks do.
 */
export function allocatedBytes(stat: Stats): number {
  return Math.min(stat.size, stat.blocks * 512);
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    const stat = await fs.lstat(file);
    return stat.isFile() ? stat : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Disk space of the partial download of `digest` and its chunk record; 0 when there is none. */
export async function partialBytes(paths: StorePaths, digest: string): Promise<number> {
  let total = 0;
  for (const file of [partialFile(paths, digest), partialChunksFile(paths, digest)]) {
    const stat = await statOrUndefined(file);
    if (stat) total += allocatedBytes(stat);
  }
  return total;
}

/** Removes the partial download of `digest` and its chunk record; returns the space freed. */
export async function removePartialFiles(paths: StorePaths, digest: string): Promise<number> {
  const bytes = await partialBytes(paths, digest);
  await fs.rm(partialFile(paths, digest), { force: true });
  await fs.rm(partialChunksFile(paths, digest), { force: true });
  return bytes;
}

/**
 * Every partial download and, when `referenced` (digests, `sha256:<hex>`) is given, every blob
 * outside it. Names that are not ours are never listed, so nothing else there is ever removed.
 */
export async function listLeftovers(paths: StorePaths, referenced?: ReadonlySet<string>): Promise<Leftover[]> {
  let names: string[];
  try {
    names = await fs.readdir(paths.blobsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const partials = new Map<string, Leftover>();
  const blobs: Leftover[] = [];
  for (const name of names) {
    const partial = PARTIAL_NAME.exec(name) ?? CHUNKS_NAME.exec(name);
    const isBlob = partial === null && referenced !== undefined && BLOB_NAME.test(name) && !referenced.has(`sha256:${name}`);
    if (partial === null && !isBlob) continue;
    const stat = await statOrUndefined(path.join(paths.blobsDir, name));
    if (stat === undefined) continue;
    if (isBlob) {
      blobs.push({ digest: `sha256:${name}`, kind: 'blob', bytes: allocatedBytes(stat), mtimeMs: stat.mtimeMs });
      continue;
    }
    const digest = `sha256:${partial![1]}`;
    const entry = partials.get(digest) ?? { digest, kind: 'partial', bytes: 0, mtimeMs: 0, orphanRecord: true };
    entry.bytes += allocatedBytes(stat);
    entry.mtimeMs = Math.max(entry.mtimeMs, stat.mtimeMs);
    if (name.endsWith(PARTIAL_SUFFIX)) entry.orphanRecord = false;
    partials.set(digest, entry);
  }
  return [...partials.values(), ...blobs];
}
