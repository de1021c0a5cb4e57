/**
 * A model file's identity and version, so that a later load can tell the file is the one that
 * passed validation before (LoadMemo.validatedFile). Rewriting a file, replacing it (a new inode)
 * or changing its size or modification time makes it a different file; the store's blobs are
 * written once under their digest, so a model's file keeps its stamp for its whole life.
 */
import { stat } from 'node:fs/promises';

/** A file's identity and version: device, inode, size and modification time. */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export async function fileStampOf(file: string): Promise<FileStamp> {
  const s = await stat(file);
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

export function sameFile(a: FileStamp | undefined, b: FileStamp): boolean {
  return a !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
