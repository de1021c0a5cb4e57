/**
 * Housekeeping done once at open, while we hold the lock (so nothing else is writing). Garbage
 * whatever its age: temp files of interrupted atomic writes (and of blobs staged by a tar load) and
 * the directories of interrupted uploads (an upload cannot resume, and none can be under way
 * before the store is open). Kept while fresh, because a resumed pull uses them: partial downloads
 * and complete blobs that no manifest names yet, both removed once nobody touched them for
 * `staleAfterMs`.
 *
 * Two passes: cleanUpAtOpen before models.json is loaded, sweepUnreferenced after, since what is
 * referenced is known only then.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { TEMP_SUFFIX } from '../util/atomic-file.js';
import { parseManifestRefs, referencedDigests } from './manifest.js';
import { listLeftovers, removePartialFiles } from './leftovers.js';
import { UPLOAD_PREFIX, type StorePaths } from './paths.js';
import type { IndexEntry } from './types.js';

/** The exact shape tempPathFor produces: `<target>.<pid>.<8 hex>.tmp`; nothing else is ever deleted as a temp file. */
const TEMP_NAME = new RegExp(`\\.\\d+\\.[0-9a-f]{8}${TEMP_SUFFIX.replace('.', '\\.')}$`);
/** Bundles nest a few levels (bundles/sha256/<id>/model/<file>); deeper trees are not ours to walk. */
const MAX_BUNDLE_DEPTH = 4;

/** Blob, manifest and bundle names: the 64 hex digits of a sha256 digest, nothing else. */
const HEX_NAME = /^[0-9a-f]{64}$/;

export interface CleanupReport {
  tempFiles: string[];
  /** Digests whose stale partial download (with its chunk record) was removed. */
  stalePartials: string[];
  uploads: string[];
}

export async function cleanUpAtOpen(paths: StorePaths, staleAfterMs: number, now = Date.now()): Promise<CleanupReport> {
  const report: CleanupReport = { tempFiles: [], stalePartials: [], uploads: [] };
  for (const dir of [paths.root, paths.manifestsDir, paths.blobsDir]) await removeTemps(dir, report, 0);
  await removeTemps(paths.bundlesDir, report, MAX_BUNDLE_DEPTH);
  // prompt-cache/<model>/: a save cut short by a crash.
  await removeTemps(paths.promptCacheDir, report, 1);

  // Partials only: which blobs are unreferenced is known once models.json is loaded.
  for (const leftover of await listLeftovers(paths)) {
    if (leftover.orphanRecord === true || now - leftover.mtimeMs > staleAfterMs) {
      await removePartialFiles(paths, leftover.digest);
      report.stalePartials.push(leftover.digest);
    }
  }

  for (const name of await listDir(paths.uploadsDir)) {
    if (!name.startsWith(UPLOAD_PREFIX)) continue;
    const dir = path.join(paths.uploadsDir, name);
    await fs.rm(dir, { recursive: true, force: true });
    report.uploads.push(dir);
  }
  return report;
}

async function removeTemps(dir: string, report: CleanupReport, depth: number): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth > 0) await removeTemps(file, report, depth - 1);
    } else if (TEMP_NAME.test(entry.name)) {
      await fs.rm(file, { force: true });
      report.tempFiles.push(file);
    }
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface SweepReport {
  unreferencedBlobs: string[];
  orphanBundles: string[];
  /** A manifest that cannot be parsed: what it names is unknown, so no blob was removed. */
  unreadableManifest?: string;
}

export async function sweepUnreferenced(paths: StorePaths, entries: readonly IndexEntry[], staleAfterMs: number, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { unreferencedBlobs: [], orphanBundles: [] };
  const listed = new Set(entries.map((e) => e.id.slice('sha256:'.length)));
  for (const name of await listDir(paths.bundlesDir)) {
    if (!HEX_NAME.test(name) || listed.has(name)) continue;
    // A bundle is hard links to blobs: left in place it would keep a swept blob's bytes on disk.
    const dir = path.join(paths.bundlesDir, name);
    await fs.rm(dir, { recursive: true, force: true });
    report.orphanBundles.push(dir);
  }

  const referenced = new Set(entries.flatMap((e) => e.files.map((d) => d.slice('sha256:'.length))));
  // Every manifest on disk counts, listed or not: one written just before a crash still names its blobs.
  for (const name of await listDir(paths.manifestsDir)) {
    if (!HEX_NAME.test(name)) continue;
    const file = path.join(paths.manifestsDir, name);
    try {
      for (const digest of referencedDigests(parseManifestRefs(await fs.readFile(file)))) referenced.add(digest.slice('sha256:'.length));
    } catch {
      report.unreadableManifest = file;
      return report;
    }
  }
  for (const name of await listDir(paths.blobsDir)) {
    if (!HEX_NAME.test(name) || referenced.has(name)) continue;
    const file = path.join(paths.blobsDir, name);
    const stat = await fs.lstat(file).catch(() => undefined);
    if (stat?.isFile() && now - stat.mtimeMs > staleAfterMs) {
      await fs.rm(file, { force: true });
      report.unreferencedBlobs.push(file);
    }
  }
  return report;
}

/** Logs what the sweep did, one line per kind. */
export function logSweep(report: SweepReport, logger: Logger): void {
  if (report.unreadableManifest !== undefined) {
    logger.warn('kept every unreferenced blob: a manifest cannot be parsed, so what it names is unknown', { manifest: report.unreadableManifest });
  }
  if (report.unreferencedBlobs.length > 0) logger.info('removed stale blobs that no manifest names', { count: report.unreferencedBlobs.length });
  if (report.orphanBundles.length > 0) logger.info('removed bundles of models that are no longer in the store', { count: report.orphanBundles.length });
}
