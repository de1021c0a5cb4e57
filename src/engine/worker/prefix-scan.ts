/**
 * Lists a model's saved prompt prefixes and checks them, started before the model loads so that
 * the checksums (tens of milliseconds per file) are computed while llama.cpp maps the weights, not
 * while the first request waits. Each file is inspected at once (trailer, tokens, key: a few KiB
 * read); one that is incoherent is removed. The checksums of the rest follow in the background,
 * newest first, one file at a time; a file whose checksum fails is removed.
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
  /** The background checksum: what was found wrong (undefined when nothing), on which file. */
  checked: Promise<{ problem?: string; identity: FileIdentity }>;
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
  const found: Array<InspectedPrefix & { path: string }> = [];
  for (const name of names.filter((n) => n.endsWith(PREFIX_FILE_SUFFIX))) {
    const file = path.join(dir, name);
    const inspected = await inspectPrefixFile(file);
    // Another model's file has no business here, but it is not ours to judge: the byte bound will take it.
    if (typeof inspected !== 'string' && inspected.header.model !== init.modelId) continue;
    const problem = typeof inspected === 'string' ? inspected : name !== `${inspected.header.key}${PREFIX_FILE_SUFFIX}` ? 'its name is not its key' : undefined;
    if (problem !== undefined || typeof inspected === 'string') {
      log('warn', `prompt cache: removed a corrupt saved prefix (${problem})`);
      await fs.rm(file, { force: true }).catch(() => undefined);
      continue;
    }
    found.push({ path: file, ...inspected });
  }
  found.sort((a, b) => b.identity.mtimeMs - a.identity.mtimeMs);
  let chain: Promise<unknown> = Promise.resolve();
  return found.map((entry) => {
    const checked = chain.then(() => checkInBackground(entry, log));
    chain = checked;
    return { ...entry, checked };
  });
}

async function checkInBackground(entry: InspectedPrefix & { path: string }, log: LogSink): Promise<{ problem?: string; identity: FileIdentity }> {
  const problem = await checksumProblem(entry.path, entry.header);
  const now = await identityOf(entry.path);
  // Replaced or removed meanwhile: the result describes no file that is still there.
  if (!now || !sameIdentity(now, entry.identity)) return { problem: 'replaced while it was checked', identity: { ino: -1, size: -1, mtimeMs: -1 } };
  if (problem !== undefined) {
    log('warn', `prompt cache: removed a corrupt saved prefix (${problem})`);
    await fs.rm(entry.path, { force: true }).catch(() => undefined);
  }
  return { ...(problem === undefined ? {} : { problem }), identity: entry.identity };
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
