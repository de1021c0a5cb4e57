/**
 * Lists a model's saved prompt prefixes, started before the model loads. Each file is inspected
 * at once (trailer, tokens, key: a few KiB read); one that is incoherent is removed. Checksums
 * wait until a request restores a file (SavedPrefixes.problemWith): hashing the whole cache (2 GiB
 * by default, soon filled by parked conversations) took a core away from the load and its first
 * request: with 39 files (253 MB) in the cache, a cold model's first token came 360-427 ms after
 * the request, against 218-233 ms without the hashing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { systemErrorText } from '../../util/disk-full.js';
import { isSha256Digest, sha256File } from '../../util/digest.js';
import type { PromptCacheInit } from '../protocol.js';
import type { LogSink } from './load.js';
import { PREFIX_FILE_SUFFIX } from './prefix-cache-bound.js';
import { readStateTokens, readTrailer, type PrefixStateHeader } from './prefix-state-file.js';
import { prefixStateKey } from './prefix-state-key.js';

/** Which file a check was made on: a save replaces a file by renaming a new one over it, so a new inode means a new file. */
export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

export interface InspectedPrefix {
  header: PrefixStateHeader;
  tokens: Uint32Array;
  identity: FileIdentity;
}

export interface ScannedPrefix extends InspectedPrefix {
  path: string;
  /** The file whose checksum was last found good (written or restored by this engine); undefined until then. */
  verified?: FileIdentity;
}

/** The directory of one model's saved prefixes. */
export function modelCacheDir(init: PromptCacheInit): string {
  return path.join(init.dir, init.modelId.slice('sha256:'.length));
}

/** Starts listing when the cache is on for a model whose ID can name a directory; undefined otherwise. */
export function startPrefixScan(init: PromptCacheInit | undefined, log: LogSink): Promise<ScannedPrefix[]> | undefined {
  if (!init || init.maxBytes <= 0 || !isSha256Digest(init.modelId)) return undefined;
  return scan(init, log).catch(() => []);
}

async function scan(init: PromptCacheInit, log: LogSink): Promise<ScannedPrefix[]> {
  const dir = modelCacheDir(init);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const found: ScannedPrefix[] = [];
  const pending = names.filter((n) => n.endsWith(PREFIX_FILE_SUFFIX));
  // A few files at a time: the first request waits for this listing, and a cache full of parked
  // conversations holds hundreds (~0.3 ms each one after the other).
  const inspectNext = async (): Promise<void> => {
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      const entry = await inspectListed(init, dir, name, log);
      if (entry) found.push(entry);
    }
  };
  await Promise.all(Array.from({ length: SCAN_CONCURRENCY }, inspectNext));
  return found;
}

/** Files inspected at once while listing. */
const SCAN_CONCURRENCY = 4;

/** The entry of one listed file; undefined for another model's file, and for a corrupt one, which is removed. */
async function inspectListed(init: PromptCacheInit, dir: string, name: string, log: LogSink): Promise<ScannedPrefix | undefined> {
  const file = path.join(dir, name);
  const inspected = await inspectPrefixFile(file);
  // Another model's file has no business here, but it is not ours to judge: the byte bound will take it.
  if (typeof inspected !== 'string' && inspected.header.model !== init.modelId) return undefined;
  const problem = typeof inspected === 'string' ? inspected : name !== `${inspected.header.key}${PREFIX_FILE_SUFFIX}` ? 'its name is not its key' : undefined;
  if (problem !== undefined || typeof inspected === 'string') {
    log('warn', `prompt cache: removed a corrupt saved prefix (${problem})`);
    await fs.rm(file, { force: true }).catch(() => undefined);
    return undefined;
  }
  return { path: file, ...inspected };
}

/** The header and tokens of a file, checked for coherence (key = hash of model, build, tokens); or why it is corrupt. */
export async function inspectPrefixFile(file: string): Promise<InspectedPrefix | string> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const stat = await handle.stat();
    const header = await readTrailer(handle, stat.size);
    if (typeof header === 'string') return header;
    const tokens = await readStateTokens(handle, header);
    if (typeof tokens === 'string') return tokens;
    if (prefixStateKey(header.model, header.build, tokens) !== header.key) return 'its key does not match its tokens';
    return { header, tokens, identity: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } };
  } catch (err) {
    return systemErrorText(err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Why llama.cpp's part of the file does not hash to the header's checksum; undefined when it does. */
export async function checksumProblem(file: string, header: PrefixStateHeader): Promise<string | undefined> {
  try {
    const { digest, size } = await sha256File(file, header.stateBytes);
    return size === header.stateBytes && digest === `sha256:${header.sha256}` ? undefined : 'checksum mismatch';
  } catch (err) {
    return systemErrorText(err);
  }
}

export async function identityOf(file: string): Promise<FileIdentity | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  return stat ? { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } : undefined;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
