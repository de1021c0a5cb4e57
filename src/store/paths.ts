/**
 * Where every file of a store lives. Docker Model Runner's layout, plus two files of ours that its
 * code ignores: the lock and the runtime settings. Every name built from a digest goes through
 * assertSha256Digest first, so a hostile digest can never walk out of the store.
 */
import path from 'node:path';
import { assertSha256Digest } from '../util/digest.js';

export const LAYOUT_FILE_NAME = 'layout.json';
export const INDEX_FILE_NAME = 'models.json';
export const SETTINGS_FILE_NAME = 'runtime-settings.json';
export const LOCK_FILE_NAME = 'model-runner.lock';
export const LAYOUT_VERSION = '1.0.0';
/** Suffix of a download in progress; Docker Model Runner uses the same one, so its partials resume here. */
export const PARTIAL_SUFFIX = '.incomplete';
/** Suffix, after the partial's own name, of the record of a chunked download's finished chunks. */
export const CHUNKS_SUFFIX = '.chunks';
/** Where HTTP uploads are staged, inside the store so that packaging them is a same-filesystem copy. */
export const UPLOADS_DIR_NAME = 'uploads.tmp';
/** Where model engines keep prompt prefixes across unloads (their format is the engine's); bounded and pruned by the engine. */
export const PROMPT_CACHE_DIR_NAME = 'prompt-cache';
/** Prefix of the one directory each upload gets under uploads.tmp; open-time cleanup removes only these. */
export const UPLOAD_PREFIX = 'upload-';

export interface StorePaths {
  root: string;
  layoutFile: string;
  indexFile: string;
  settingsFile: string;
  lockFile: string;
  /** blobs/sha256 */
  blobsDir: string;
  /** manifests/sha256 */
  manifestsDir: string;
  /** bundles/sha256 */
  bundlesDir: string;
  /** uploads.tmp: one `upload-*` directory per upload in progress */
  uploadsDir: string;
  /** prompt-cache: one directory per model, written by the engine */
  promptCacheDir: string;
}

export function storePaths(root: string): StorePaths {
  const absolute = path.resolve(root);
  return {
    root: absolute,
    layoutFile: path.join(absolute, LAYOUT_FILE_NAME),
    indexFile: path.join(absolute, INDEX_FILE_NAME),
    settingsFile: path.join(absolute, SETTINGS_FILE_NAME),
    lockFile: path.join(absolute, LOCK_FILE_NAME),
    blobsDir: path.join(absolute, 'blobs', 'sha256'),
    manifestsDir: path.join(absolute, 'manifests', 'sha256'),
    bundlesDir: path.join(absolute, 'bundles', 'sha256'),
    uploadsDir: path.join(absolute, UPLOADS_DIR_NAME),
    promptCacheDir: path.join(absolute, PROMPT_CACHE_DIR_NAME),
  };
}

/** The 64 hex digits of a validated digest; `what` names the value in the error ("digest", "model ID"). */
export function hexOf(digest: string, what = 'digest'): string {
  return assertSha256Digest(digest, what).slice('sha256:'.length);
}

export function blobFile(paths: StorePaths, digest: string): string {
  return path.join(paths.blobsDir, hexOf(digest));
}

export function partialFile(paths: StorePaths, digest: string): string {
  return path.join(paths.blobsDir, hexOf(digest) + PARTIAL_SUFFIX);
}

/** The finished-chunks record that belongs to a partial download; the store creates and removes both together. */
export function partialChunksFile(paths: StorePaths, digest: string): string {
  return partialFile(paths, digest) + CHUNKS_SUFFIX;
}

export function manifestFile(paths: StorePaths, id: string): string {
  return path.join(paths.manifestsDir, hexOf(id, 'model ID'));
}

/** The saved prompt prefixes of one model. */
export function promptCachePath(paths: StorePaths, id: string): string {
  return path.join(paths.promptCacheDir, hexOf(id, 'model ID'));
}

export function bundlePath(paths: StorePaths, id: string): string {
  return path.join(paths.bundlesDir, hexOf(id, 'model ID'));
}
