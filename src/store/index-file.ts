/**
 * models.json as Docker Model Runner writes it: {"models":[{"id","tags","files"}]}. Reading is
 * lenient about older or Go-flavoured forms (null arrays, no `files`), strict about corruption:
 * a file we cannot parse stops the open instead of being replaced by an empty index.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { isSha256Digest } from '../util/digest.js';
import type { IndexEntry } from './types.js';

/** An entry as read from disk: `files` is undefined when the file predates that field. */
export interface StoredEntry {
  id: string;
  tags: string[];
  files: string[] | undefined;
}

export interface IndexFileContents {
  entries: StoredEntry[];
  /** Why entries were dropped while reading (invalid IDs or file digests); the caller logs them. */
  problems: string[];
}

/** Reads models.json; undefined when it does not exist. */
export async function readIndexFile(file: string): Promise<IndexFileContents | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `it is not valid JSON (${(err as Error).message})`, err);
  }
  if (!isObject(value)) throw corrupt(file, 'it is not a JSON object');
  const models = value.models ?? [];
  if (!Array.isArray(models)) throw corrupt(file, '"models" is not an array');

  const entries: StoredEntry[] = [];
  const problems: string[] = [];
  models.forEach((raw: unknown, i) => {
    const entry = parseEntry(raw);
    if (typeof entry === 'string') problems.push(`entry ${i}: ${entry}`);
    else entries.push(entry);
  });
  return { entries, problems };
}

export async function writeIndexFile(file: string, entries: readonly IndexEntry[]): Promise<void> {
  const models = entries.map(({ id, tags, files }) => ({ id, tags, files }));
  await writeFileAtomic(file, JSON.stringify({ models }) + '\n');
}

/** The entry, or a reason it cannot be used. */
function parseEntry(raw: unknown): StoredEntry | string {
  if (!isObject(raw)) return 'not an object';
  const { id, tags, files } = raw;
  if (typeof id !== 'string' || !isSha256Digest(id)) return `invalid model ID ${JSON.stringify(id)}`;
  if (tags !== undefined && tags !== null && !Array.isArray(tags)) return `model ${id} has a "tags" field that is not an array`;
  const tagList = [...new Set((tags ?? []).filter((t: unknown): t is string => typeof t === 'string' && t.length > 0))];
  if (files === undefined || files === null) return { id, tags: tagList, files: undefined };
  if (!Array.isArray(files)) return `model ${id} has a "files" field that is not an array`;
  const bad = files.find((f: unknown) => typeof f !== 'string' || !isSha256Digest(f));
  if (bad !== undefined) return `model ${id} lists invalid file digest ${JSON.stringify(bad)}`;
  return { id, tags: tagList, files: [...new Set(files as string[])] };
}

function corrupt(file: string, why: string, cause?: unknown): AppError {
  return new AppError(
    'internal',
    `model index ${file} cannot be read: ${why}. Refusing to open the store so that no model is lost; repair the file or move it aside`,
    { cause },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
