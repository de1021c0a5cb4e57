/**
 * The prompt cache's decisions, apart from its I/O: which saved prefix serves a prompt, which
 * sequences are worth saving when a model unloads, and which files go when the cache is over its
 * byte bound. Pure functions, so that each rule is tested on its own.
 */
import { commonPrefixLength } from './prefix-state-key.js';

/**
 * Prefixes shorter than this are neither saved nor restored: evaluating them costs less than
 * the file read and the state load, so a restore would not pay for itself.
 */
export const MIN_PREFIX_TOKENS = 64;

/** A saved prefix, as the matcher sees it. */
export interface SavedPrefix {
  tokens: ArrayLike<number>;
}

/**
 * The saved prefix that shares the most tokens with `prompt`, when restoring it would spare at
 * least MIN_PREFIX_TOKENS over the `inMemory` tokens the sequence already shares with it. The
 * last prompt token never counts: it is evaluated again for its logits.
 */
export function bestSavedPrefix<T extends SavedPrefix>(saved: readonly T[], prompt: ArrayLike<number>, inMemory: number): { prefix: T; shared: number } | undefined {
  const usable = prompt.length - 1;
  let best: { prefix: T; shared: number } | undefined;
  for (const prefix of saved) {
    const shared = Math.min(commonPrefixLength(prefix.tokens, prompt), usable);
    if (shared > (best?.shared ?? 0)) best = { prefix, shared };
  }
  if (!best || best.shared < MIN_PREFIX_TOKENS || best.shared - inMemory < MIN_PREFIX_TOKENS) return undefined;
  return best;
}

/** A sequence as the save policy sees it. */
export interface SequenceContents {
  id: number;
  tokens: ArrayLike<number>;
}

/**
 * Which sequences to save when the model unloads, most valuable first: the longest (a long
 * system prompt or tool preamble is what a restore spares most), skipping those too short to be
 * worth a file and those another sequence covers (isCoveredBy: its file restores them as well).
 */
export function sequencesToSave<T extends SequenceContents>(sequences: readonly T[]): T[] {
  const candidates = sequences.filter((s) => s.tokens.length >= MIN_PREFIX_TOKENS).sort((a, b) => b.tokens.length - a.tokens.length || a.id - b.id);
  const chosen: T[] = [];
  for (const candidate of candidates) if (!chosen.some((c) => isCoveredBy(candidate.tokens, c.tokens))) chosen.push(candidate);
  return chosen;
}

/**
 * Whether a prefix saved as `by` makes one saved as `tokens` worthless: all but fewer than
 * MIN_PREFIX_TOKENS of its tokens are a prefix of `by`, so no prompt would gain a restore from it.
 * The same prompt answered twice differs only in its reply's tokens; it is kept once.
 */
export function isCoveredBy(tokens: ArrayLike<number>, by: ArrayLike<number>): boolean {
  return tokens.length - commonPrefixLength(tokens, by) < MIN_PREFIX_TOKENS;
}

/** A file of the cache, as the eviction sees it. */
export interface CacheFile {
  path: string;
  bytes: number;
  /** When it was last saved or restored (its modification time), in milliseconds. */
  lastUsedMs: number;
}

/** The files to remove, least recently used first, so that the rest fit in `maxBytes`. */
export function filesToEvict(files: readonly CacheFile[], maxBytes: number): string[] {
  let total = files.reduce((sum, f) => sum + f.bytes, 0);
  const evicted: string[] = [];
  // Ties go by path, so that two Workers evicting at once choose the same files.
  for (const file of [...files].sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path))) {
    if (total <= maxBytes) break;
    evicted.push(file.path);
    total -= file.bytes;
  }
  return evicted;
}
