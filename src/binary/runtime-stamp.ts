/**
 * What the runtime folder's files looked like when they were last checked against their hashes:
 * size, mtime, ctime and inode per file, kept in <folder>/.verified.json. A later start hashes a
 * file again only when its stat differs. Any write to a file, a chmod or a utimes moves its
 * ctime, and nothing short of changing the clock sets ctime back, so a file whose stat matches is
 * the file that was hashed; hashing every backend library at every start would cost about a
 * second per 600 MB here.
 */
import { readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export const STAMP_FILE = '.verified.json';

export interface StampRecord {
  sha256: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

export type Stamp = Record<string, StampRecord>;

export function stampRecord(sha256: string, stats: Stats): StampRecord {
  return { sha256, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, mode: stats.mode };
}

/** True when `stats` is the file `record` describes, unchanged since it was hashed. */
export function matchesStamp(record: StampRecord | undefined, sha256: string, stats: Stats): boolean {
  return (
    record !== undefined &&
    record.sha256 === sha256 &&
    record.size === stats.size &&
    record.mtimeMs === stats.mtimeMs &&
    record.ctimeMs === stats.ctimeMs &&
    record.ino === stats.ino &&
    record.mode === stats.mode
  );
}

/** The folder's stamp; an unreadable or malformed one is empty, so every file is hashed again. */
export function readStamp(dir: string): Stamp {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dir, STAMP_FILE), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Stamp) : {};
  } catch {
    return {};
  }
}

export function writeStamp(dir: string, stamp: Stamp): Promise<void> {
  return writeFileAtomic(path.join(dir, STAMP_FILE), JSON.stringify(stamp));
}
