/**
 * Turns what a user typed into a stored model, with Docker Model Runner's rules in its order:
 * an ID (full, sha256:-prefixed or 12-hex short), then the exact normalised tag, then a partial
 * name ("smollm2" finds "127.0.0.1:5000/ai/smollm2:latest").
 */
import { AppError } from '../errors.js';
import { parseModelId, parseReference } from '../registry/index.js';
import type { Reference } from '../registry/types.js';
import type { IndexEntry, ModelStore } from '../store/types.js';

export interface ResolvedModel {
  id: string;
  entry: IndexEntry;
  /** The stored tag the name matched; undefined when the name was an ID or a digest reference. */
  tag?: string;
}

export interface ResolveOptions {
  /** Registry assumed for names that carry none. Defaults to "docker.io". */
  defaultRegistry?: string;
}

export function notFound(name: string): AppError {
  return new AppError('not_found', `model ${JSON.stringify(name)} not found`);
}

/** Looks a name up without treating absence as an error. */
export async function findModel(store: ModelStore, name: string, options: ResolveOptions = {}): Promise<ResolvedModel | undefined> {
  const text = name.trim();
  if (text.length === 0) throw new AppError('invalid_reference', 'model name is empty');

  const idQuery = parseModelId(text);
  if (idQuery) {
    const entries = await store.listModels();
    const entry = entries.find((e) =>
      idQuery.digest !== undefined ? e.id === idQuery.digest : e.id.slice('sha256:'.length, 'sha256:'.length + 12) === idQuery.short,
    );
    if (entry) return { id: entry.id, entry };
    // A 12- or 64-hex word is also a valid repository name; only "sha256:..." is an ID for sure.
    if (text.startsWith('sha256:')) return undefined;
  }

  const ref = parseReference(text, { defaultRegistry: options.defaultRegistry });
  if (ref.digest !== undefined && ref.tag === undefined) {
    const entry = await store.getModel(ref.digest);
    return entry ? { id: entry.id, entry } : undefined;
  }
  const exact = await store.findByTag(ref.canonical);
  if (exact) return { id: exact.id, entry: exact, tag: ref.canonical };
  return findByPartialName(await store.listModels(), text);
}

/** Like findModel, but a missing model is AppError('not_found'). */
export async function resolveModel(store: ModelStore, name: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const found = await findModel(store, name, options);
  if (!found) throw notFound(name);
  return found;
}

interface SplitName {
  /** Lower-cased path segments of the name, registry included when one was written. */
  segments: string[];
  /** The tag when one was written. */
  tag?: string;
}

/** Splits "a/b/c:tag" at the ':' after the last '/' (a registry port is not a tag). */
export function splitName(text: string): SplitName {
  const withoutDigest = text.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon >= 0 ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = colon >= 0 && colon < withoutDigest.length - 1 ? withoutDigest.slice(colon + 1) : undefined;
  return { segments: name.toLowerCase().split('/'), ...(tag === undefined ? {} : { tag }) };
}

/**
 * Docker's partial-name fallback: the typed name's path segments must be the last segments of a
 * stored tag's name, and a typed tag must be equal. Without a typed tag a ":latest" match wins,
 * then the first match, so that the answer does not depend on map order alone.
 */
export function findByPartialName(entries: IndexEntry[], text: string): ResolvedModel | undefined {
  const wanted = splitName(text);
  let fallback: ResolvedModel | undefined;
  for (const entry of entries) {
    for (const tag of entry.tags) {
      const stored = splitName(tag);
      if (!endsWith(stored.segments, wanted.segments)) continue;
      if (wanted.tag !== undefined) {
        if (stored.tag === wanted.tag) return { id: entry.id, entry, tag };
        continue;
      }
      if (stored.tag === 'latest' || stored.tag === undefined) return { id: entry.id, entry, tag };
      fallback ??= { id: entry.id, entry, tag };
    }
  }
  return fallback;
}

function endsWith(whole: string[], tail: string[]): boolean {
  if (tail.length === 0 || tail.length > whole.length) return false;
  const offset = whole.length - tail.length;
  return tail.every((segment, i) => whole[offset + i] === segment);
}

/** Parses a reference typed by a user, with the catalog's default registry. */
export function parseUserReference(text: string, options: ResolveOptions = {}): Reference {
  return parseReference(text.trim(), { defaultRegistry: options.defaultRegistry });
}
