/**
 * Free space of the store's file system and the one shape of the error when there is too little:
 * how much is needed, how much is free, and how much the store itself could free. The message
 * names what was being stored (a model, a blob digest), never a path of the server.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { formatDecimalSize } from '../util/units.js';

export interface StoreSpace {
  /** Bytes the file system still gives to unprivileged writers (statfs `bavail`). */
  freeBytes: number;
  /** Size of the file system. */
  totalBytes: number;
  /** Partial downloads that no download in progress is writing. */
  partialBytes: number;
  /** Complete blobs that no model names and no download in progress is about to name. */
  unreferencedBytes: number;
}

export async function fileSystemSpace(root: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const stats = await fs.statfs(root);
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

/** What the store could free now: `model-runner purge --partials` removes exactly this. */
export function reclaimableBytes(space: StoreSpace): number {
  return space.partialBytes + space.unreferencedBytes;
}

/**
 * The 507 every writer of the store answers, before writing (the check) or after the file system
 * filled up anyway (another writer was faster). `what` completes "not enough space to ...".
 */
export function insufficientStorage(what: string, neededBytes: number, space: StoreSpace, cause?: unknown): AppError {
  const reclaimable = reclaimableBytes(space);
  const freeable =
    reclaimable > 0
      ? `the store could free ${formatDecimalSize(reclaimable)} (${formatDecimalSize(space.partialBytes)} of partial downloads, ` +
        `${formatDecimalSize(space.unreferencedBytes)} of blobs no model uses) with \`model-runner purge --partials\``
      : 'the store has nothing it could free';
  const message =
    `not enough disk space in the model store to ${what}: it needs ${formatDecimalSize(neededBytes)}, ` +
    `${formatDecimalSize(space.freeBytes)} is free, and ${freeable}`;
  return new AppError('insufficient_storage', message, {
    cause,
    data: { needed_bytes: neededBytes, free_bytes: space.freeBytes, reclaimable_bytes: reclaimable },
  });
}
