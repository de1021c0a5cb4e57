/**
 * The list of files the single binary carries for unpacking, written by scripts/binary at build
 * time and read back from the binary's manifest asset: each file's path in the runtime folder,
 * its SHA-256, size and whether it is executable. The files' bytes follow one another, in this
 * order, in the payload at the end of the binary (payload.ts). The folder's name is the hash of
 * this list, so it changes whenever any file does.
 */
import path from 'node:path';
import { sha256Hex } from '../util/digest.js';

export interface RuntimeFile {
  /** Path inside the runtime folder, '/'-separated, never absolute or leading out of it. */
  path: string;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
  size: number;
  /** Written with mode 0755 when true (shared libraries, addons), else 0644. */
  executable: boolean;
}

export interface RuntimeManifest {
  /** In payload order. */
  files: RuntimeFile[];
}

/** Characters of the manifest hash that name the runtime folder: 64 bits, plenty to tell builds apart. */
const ID_LENGTH = 16;
const HEX_SHA256 = /^[a-f0-9]{64}$/;

/** The runtime folder's name for this manifest text. */
export function runtimeId(manifestText: string): string {
  return sha256Hex(manifestText).slice(0, ID_LENGTH);
}

/** A path that stays inside the folder it is joined to. */
function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.includes('\\') || p.includes('\0') || path.posix.isAbsolute(p)) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Parses and checks the manifest; throws naming the first bad entry. */
export function parseRuntimeManifest(text: string): RuntimeManifest {
  const parsed = JSON.parse(text) as { files?: unknown };
  if (!Array.isArray(parsed?.files)) throw new Error('the runtime manifest has no "files" list');
  const seen = new Set<string>();
  const files = parsed.files.map((entry: unknown, index: number): RuntimeFile => {
    const file = entry as Partial<RuntimeFile>;
    const ok =
      typeof file?.path === 'string' &&
      isSafeRelativePath(file.path) &&
      typeof file.sha256 === 'string' &&
      HEX_SHA256.test(file.sha256) &&
      Number.isSafeInteger(file.size) &&
      (file.size as number) >= 0 &&
      typeof file.executable === 'boolean';
    if (!ok) throw new Error(`runtime manifest entry ${index} is malformed: ${JSON.stringify(entry)?.slice(0, 200)}`);
    if (seen.has(file.path as string)) throw new Error(`runtime manifest lists ${file.path} twice`);
    seen.add(file.path as string);
    return { path: file.path as string, sha256: file.sha256 as string, size: file.size as number, executable: file.executable as boolean };
  });
  return { files };
}
