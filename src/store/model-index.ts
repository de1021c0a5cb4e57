/**
 * The in-memory copy of models.json and the one mutex every change goes through. A change edits a
 * draft copy; the draft is written atomically and only then becomes what readers see, so a failed
 * write leaves memory and disk agreeing, and two concurrent changes can never lose each other.
 */
import { Semaphore } from '../util/semaphore.js';
import { writeIndexFile } from './index-file.js';
import type { IndexEntry } from './types.js';

export class ModelIndex {
  private entries: IndexEntry[];
  private readonly mutex = new Semaphore(1);

  constructor(
    private readonly file: string,
    entries: IndexEntry[],
  ) {
    this.entries = entries.map(cloneEntry);
  }

  list(): IndexEntry[] {
    return this.entries.map(cloneEntry);
  }

  get(id: string): IndexEntry | undefined {
    const entry = this.entries.find((e) => e.id === id);
    return entry && cloneEntry(entry);
  }

  findByTag(tag: string): IndexEntry | undefined {
    const entry = this.entries.find((e) => e.tags.includes(tag));
    return entry && cloneEntry(entry);
  }

  /**
   * Runs `change` on a draft under the mutex, persists the draft if it differs, publishes it, then
   * runs `afterCommit` still under the mutex (deletions of files the draft no longer references
   * happen there, so no concurrent change can start referencing them half-way).
   */
  async update<T>(change: (draft: IndexEntry[]) => T | Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    return this.mutex.use(async () => {
      const draft = this.entries.map(cloneEntry);
      const result = await change(draft);
      if (JSON.stringify(draft) !== JSON.stringify(this.entries)) {
        await writeIndexFile(this.file, draft);
        this.entries = draft;
      }
      if (afterCommit) await afterCommit(result);
      return result;
    });
  }

  /** Runs `operation` while no change is in progress (used by purge and close). */
  async exclusive<T>(operation: () => Promise<T>): Promise<T> {
    return this.mutex.use(operation);
  }

  /** Replaces the whole index (after purge). Call only inside `exclusive`. */
  async replaceAllLocked(entries: IndexEntry[]): Promise<void> {
    await writeIndexFile(this.file, entries);
    this.entries = entries.map(cloneEntry);
  }
}

export function cloneEntry(entry: IndexEntry): IndexEntry {
  return { id: entry.id, tags: [...entry.tags], files: [...entry.files] };
}

/** Takes `tag` off every entry of the draft (tags are unique across the index). */
export function detachTag(draft: IndexEntry[], tag: string): void {
  for (const entry of draft) {
    const i = entry.tags.indexOf(tag);
    if (i >= 0) entry.tags.splice(i, 1);
  }
}

/** Digests referenced by any entry other than `exceptId`. */
export function referencedBy(entries: readonly IndexEntry[], exceptId?: string): Set<string> {
  const refs = new Set<string>();
  for (const entry of entries) if (entry.id !== exceptId) for (const f of entry.files) refs.add(f);
  return refs;
}
