/**
 * Housekeeping done once at open, while we hold the lock (so nothing else is writing): temp files
 * of interrupted atomic writes are garbage whatever their age; partial downloads are kept so pulls
 * resume, unless nobody touched them for `staleAfterMs`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TEMP_SUFFIX } from '../util/atomic-file.js';
import { PARTIAL_SUFFIX, type StorePaths } from './paths.js';

/** The exact shape tempPathFor produces: `<target>.<pid>.<8 hex>.tmp`; nothing else is ever deleted as a temp file. */
const TEMP_NAME = new RegExp(`\\.\\d+\\.[0-9a-f]{8}${TEMP_SUFFIX.replace('.', '\\.')}$`);
const PARTIAL_NAME = new RegExp(`^[0-9a-f]{64}${PARTIAL_SUFFIX.replace('.', '\\.')}$`);
/** Bundles nest a few levels (bundles/sha256/<id>/model/<file>); deeper trees are not ours to walk. */
const MAX_BUNDLE_DEPTH = 4;

export interface CleanupReport {
  tempFiles: string[];
  stalePartials: string[];
}

export async function cleanUpAtOpen(paths: StorePaths, staleAfterMs: number, now = Date.now()): Promise<CleanupReport> {
  const report: CleanupReport = { tempFiles: [], stalePartials: [] };
  for (const dir of [paths.root, paths.manifestsDir, paths.blobsDir]) await removeTemps(dir, report, 0);
  await removeTemps(paths.bundlesDir, report, MAX_BUNDLE_DEPTH);

  for (const name of await listDir(paths.blobsDir)) {
    if (!PARTIAL_NAME.test(name)) continue;
    const file = path.join(paths.blobsDir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isFile() && now - stat.mtimeMs > staleAfterMs) {
      await fs.rm(file, { force: true });
      report.stalePartials.push(file);
    }
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
