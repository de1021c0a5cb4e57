/**
 * The space side of the store: which blobs downloads in progress are writing (their claims), what
 * is still missing for a set of blobs, how much room is left, and removing what interrupted or
 * failed downloads left behind. Claims keep a purge of leftovers, or a failed pull cleaning up
 * after itself, away from the files another download is still writing or is about to commit.
 */
import { promises as fs } from 'node:fs';
import type { AppError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { fileSystemSpace, insufficientStorage, type StoreSpace } from './disk-space.js';
import { listLeftovers, partialBytes, removePartialFiles } from './leftovers.js';
import { referencedBy, type ModelIndex } from './model-index.js';
import type { StorePaths } from './paths.js';
import type { BlobInfo, LeftoverPurge } from './types.js';

export class DownloadArea {
  /** Digest -> number of downloads in progress that write or expect it. */
  private readonly claims = new Map<string, number>();

  constructor(
    private readonly paths: StorePaths,
    private readonly blobs: BlobStore,
    private readonly index: ModelIndex,
  ) {}

  /** Marks `digests` as being downloaded until the returned function is called (once). */
  claim(digests: readonly string[]): () => void {
    const unique = [...new Set(digests)];
    for (const d of unique) this.claims.set(d, (this.claims.get(d) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const d of unique) {
        const left = (this.claims.get(d) ?? 1) - 1;
        if (left > 0) this.claims.set(d, left);
        else this.claims.delete(d);
      }
    };
  }

  /** Bytes still to be written before every blob of `blobs` is present, counting what partials hold. */
  async missingBytes(blobs: readonly BlobInfo[]): Promise<number> {
    let total = 0;
    const seen = new Set<string>();
    for (const blob of blobs) {
      if (seen.has(blob.digest)) continue;
      seen.add(blob.digest);
      if (await this.blobs.has(blob.digest)) continue;
      total += Math.max(0, blob.size - (await partialBytes(this.paths, blob.digest)));
    }
    return total;
  }

  async space(): Promise<StoreSpace> {
    const fsSpace = await fileSystemSpace(this.paths.root);
    let partial = 0;
    let unreferenced = 0;
    for (const leftover of await this.leftovers()) {
      if (leftover.kind === 'partial') partial += leftover.bytes;
      else unreferenced += leftover.bytes;
    }
    return { ...fsSpace, partialBytes: partial, unreferencedBytes: unreferenced };
  }

  /** Throws the 507 when `neededBytes` more do not fit on the store's file system. */
  async ensureSpace(what: string, neededBytes: number): Promise<void> {
    if (neededBytes <= 0) return;
    const { freeBytes } = await fileSystemSpace(this.paths.root);
    if (neededBytes > freeBytes) throw insufficientStorage(what, neededBytes, await this.space());
  }

  /** The 507 for a write that found the disk full, with the numbers as they are now. */
  async insufficientStorage(what: string, neededBytes: number, cause?: unknown): Promise<AppError> {
    return insufficientStorage(what, neededBytes, await this.space(), cause);
  }

  removePartial(digest: string): Promise<number> {
    return removePartialFiles(this.paths, digest);
  }

  /**
   * Removes what one download wrote: the partials of `partials`, and those of `blobs` (the blobs it
   * completed) that no model names and no other download expects. The caller's own claim counts as one.
   */
  async discard(partials: readonly string[], blobs: readonly string[]): Promise<void> {
    await this.index.exclusive(async () => {
      for (const digest of new Set(partials)) await removePartialFiles(this.paths, digest);
      const used = referencedBy(this.index.list());
      for (const digest of new Set(blobs)) {
        if (!used.has(digest) && (this.claims.get(digest) ?? 0) <= 1) await this.blobs.remove(digest);
      }
    });
  }

  /** Removes every leftover that no download in progress claims. */
  async purgeLeftovers(): Promise<LeftoverPurge> {
    return this.index.exclusive(async () => {
      const result: LeftoverPurge = { partials: 0, blobs: 0, freedBytes: 0 };
      for (const leftover of await listLeftovers(this.paths, referencedBy(this.index.list()))) {
        if (this.claims.has(leftover.digest)) continue;
        if (leftover.kind === 'partial') {
          result.freedBytes += await removePartialFiles(this.paths, leftover.digest);
          result.partials++;
        } else {
          await fs.rm(this.blobs.path(leftover.digest), { force: true });
          result.freedBytes += leftover.bytes;
          result.blobs++;
        }
      }
      return result;
    });
  }

  private async leftovers() {
    const all = await listLeftovers(this.paths, referencedBy(this.index.list()));
    return all.filter((l) => !this.claims.has(l.digest));
  }
}
