/**
 * File-side helpers shared by the sequential and the chunked download: opening a partial
 * file for positional writes, the read size for hashing what it holds, and the final check.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { systemErrorText } from '../util/disk-full.js';
import type { Descriptor } from './types.js';

/** Read size when hashing a file: large reads keep the hash, not the syscalls, the bottleneck. */
export const HASH_READ_BYTES = 8 * 1024 * 1024;

/** Opens (creating if needed) a file for positional reads and writes; 'a' mode would ignore positions. */
export async function openPartial(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err);
  }
  try {
    return await fs.open(path, 'w+', 0o644);
  } catch (err) {
    throw fileError(err);
  }
}

/** The path stays in `cause` (for the log); the message reaches API clients, so it names no path. */
export function fileError(err: unknown): AppError {
  return new AppError('internal', `cannot open the partial download: ${systemErrorText(err)}`, { cause: err });
}

/** Removes a partial file and, when the caller keeps one, its chunk record; missing files are fine. */
export async function removePartial(path: string, chunksPath?: string): Promise<void> {
  await fs.rm(path, { force: true });
  if (chunksPath !== undefined) await fs.rm(chunksPath, { force: true });
}

/** Throws 'digest_mismatch' (after removing the partial) unless size and digest match the descriptor. */
export async function verifyOrRemove(path: string, chunksPath: string | undefined, descriptor: Descriptor, size: number, digest: string, where: string): Promise<void> {
  if (size === descriptor.size && digest === descriptor.digest) return;
  await removePartial(path, chunksPath);
  const got = size === descriptor.size ? `bytes hashing to ${digest}` : `${size} bytes instead of ${descriptor.size}`;
  throw new AppError('digest_mismatch', `blob ${descriptor.digest} from ${where}: received ${got}; the partial download was removed`);
}
