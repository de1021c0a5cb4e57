/**
 * Public entry of the model store: openStore() and the contract's types.
 */
import { promises as fs } from 'node:fs';
import { createSilentLogger, type Logger } from '../log.js';
import { BlobStore } from './blob-store.js';
import { writeIndexFile } from './index-file.js';
import { ensureLayout } from './layout.js';
import { loadIndex } from './load-index.js';
import { acquireStoreLock } from './lock.js';
import { ModelIndex } from './model-index.js';
import { DownloadArea } from './download-area.js';
import { DiskModelStore } from './model-store.js';
import { cleanUpAtOpen, logSweep, sweepUnreferenced } from './open-cleanup.js';
import { storePaths } from './paths.js';
import type { ModelStore, StoreOptions } from './types.js';

export type { BlobInfo, IndexEntry, LeftoverPurge, ModelStore, StagedBlob, StoreOptions, StoreSpace } from './types.js';
export type { RuntimeSettings } from './settings-file.js';
export { LOCK_FILE_NAME, PROMPT_CACHE_DIR_NAME, SETTINGS_FILE_NAME, UPLOAD_PREFIX, UPLOADS_DIR_NAME } from './paths.js';
export { AdmissionVerdictFiles, type StoredVerdict } from './admission-verdicts.js';

/**
 * Partial downloads, and blobs no manifest names, untouched this long are removed at open. Both are
 * what an interrupted pull leaves and what resuming it reuses; a week leaves time to come back to a
 * multi-gigabyte pull without keeping abandoned ones forever.
 */
export const DEFAULT_STALE_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

export interface OpenStoreOptions extends StoreOptions {
  /** Receives warnings about entries dropped and files cleaned up at open. Defaults to a silent logger. */
  logger?: Logger;
}

/**
 * Opens (creating if needed) the store at `root`: takes its lock, creates the layout, removes
 * leftovers of interrupted writes and uploads, loads models.json (dropping entries whose files are
 * gone), then removes stale blobs that no manifest names and bundles of unlisted models.
 * Throws `store_locked` when a live process holds the store.
 */
export async function openStore(root: string, options: OpenStoreOptions = {}): Promise<ModelStore> {
  const logger = options.logger ?? createSilentLogger();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const paths = storePaths(root);
  await fs.mkdir(paths.root, { recursive: true });
  const lock = await acquireStoreLock(paths.lockFile, paths.root, {
    onStaleLock: (pid) => logger.warn('taking over the lock of a process that is gone', { path: paths.root, pid }),
  });
  try {
    await ensureLayout(paths);
    const cleanup = await cleanUpAtOpen(paths, staleAfterMs);
    if (cleanup.tempFiles.length > 0) logger.info('removed temp files of interrupted writes', { count: cleanup.tempFiles.length });
    for (const digest of cleanup.stalePartials) logger.info('removed a stale partial download', { digest });
    if (cleanup.uploads.length > 0) logger.info('removed files of interrupted uploads', { count: cleanup.uploads.length });
    const loaded = await loadIndex(paths, logger);
    if (loaded.changed) await writeIndexFile(paths.indexFile, loaded.entries);
    logSweep(await sweepUnreferenced(paths, loaded.entries, staleAfterMs), logger);
    const blobs = new BlobStore(paths);
    const index = new ModelIndex(paths.indexFile, loaded.entries);
    return new DiskModelStore({
      paths,
      blobs,
      index,
      downloads: new DownloadArea(paths, blobs, index),
      lock,
      logger,
    });
  } catch (err) {
    await lock.release();
    throw err;
  }
}
