/**
 * Loads models.json at open and brings it to a consistent state. A kill -9 cannot tear the file
 * (it is replaced atomically), but entries can outlive their files when something else deleted
 * them, and stores written by older versions lack `files`. Entries that cannot be trusted are
 * dropped with a warning; the models themselves are never touched here.
 */
import { promises as fs } from 'node:fs';
import type { Logger } from '../log.js';
import { readIndexFile, type StoredEntry } from './index-file.js';
import { parseManifestRefs, referencedDigests } from './manifest.js';
import { blobFile, manifestFile, type StorePaths } from './paths.js';
import type { IndexEntry } from './types.js';

export interface LoadedIndex {
  entries: IndexEntry[];
  /** True when the entries differ from the file (or there is no file) and should be written back. */
  changed: boolean;
}

export async function loadIndex(paths: StorePaths, logger: Logger): Promise<LoadedIndex> {
  const contents = await readIndexFile(paths.indexFile);
  if (contents === undefined) return { entries: [], changed: true };
  let changed = contents.problems.length > 0;
  for (const problem of contents.problems) logger.warn(`dropping unusable model index entry: ${problem}`, { file: paths.indexFile });

  const entries: IndexEntry[] = [];
  const tagOwner = new Map<string, string>();
  const merged = mergeDuplicates(contents.entries);
  if (merged.length !== contents.entries.length) {
    changed = true;
    const repeated = [...new Set(contents.entries.map((e) => e.id).filter((id, i, all) => all.indexOf(id) !== i))];
    logger.warn('model index lists a model more than once; merging its entries and their tags', { models: repeated, file: paths.indexFile });
  }
  for (const stored of merged) {
    const entry = await checkEntry(paths, stored, logger);
    if (entry === undefined) {
      changed = true;
      continue;
    }
    if (stored.files === undefined) changed = true;
    // Tags are unique across the index; if a hand-edited file repeats one, the first model keeps it.
    const tags = entry.tags.filter((tag) => {
      const owner = tagOwner.get(tag);
      if (owner === undefined) {
        tagOwner.set(tag, entry.id);
        return true;
      }
      logger.warn('tag appears on several models; keeping it on the first', { tag, kept: owner, dropped: entry.id });
      changed = true;
      return false;
    });
    entries.push({ ...entry, tags });
  }
  return { entries, changed };
}

/** The entry with `files` filled in, or undefined when its manifest or a blob is missing. */
async function checkEntry(paths: StorePaths, stored: StoredEntry, logger: Logger): Promise<IndexEntry | undefined> {
  let manifest: Buffer;
  try {
    manifest = await fs.readFile(manifestFile(paths, stored.id));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    logger.warn('dropping model whose manifest is missing', { model: stored.id, tags: stored.tags });
    return undefined;
  }
  let files = stored.files;
  if (files === undefined) {
    try {
      files = referencedDigests(parseManifestRefs(manifest));
    } catch (err) {
      logger.warn(`dropping model whose manifest cannot be parsed: ${(err as Error).message}`, { model: stored.id, tags: stored.tags });
      return undefined;
    }
  }
  for (const digest of files) {
    if (!(await isFile(blobFile(paths, digest)))) {
      logger.warn('dropping model with a missing blob', { model: stored.id, tags: stored.tags, blob: digest });
      return undefined;
    }
  }
  return { id: stored.id, tags: stored.tags, files };
}

/** Entries repeating an ID become one, with the union of their tags. */
function mergeDuplicates(entries: StoredEntry[]): StoredEntry[] {
  const byId = new Map<string, StoredEntry>();
  for (const entry of entries) {
    const seen = byId.get(entry.id);
    if (seen === undefined) byId.set(entry.id, { ...entry, tags: [...entry.tags] });
    else {
      seen.tags = [...new Set([...seen.tags, ...entry.tags])];
      seen.files = seen.files ?? entry.files;
    }
  }
  return [...byId.values()];
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
