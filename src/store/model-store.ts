/**
 * The store itself: blobs, manifests and the tag index of one directory, behind the ModelStore
 * contract. Order of writes is what keeps it crash-safe: blobs before the manifest that names
 * them, the manifest before the index entry; on delete, the index entry first, files after. A
 * kill -9 between any two steps leaves only unreferenced files, never an entry without its files.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { fsyncDirectory, writeFileAtomic } from '../util/atomic-file.js';
import { assertSha256Digest, sha256Digest } from '../util/digest.js';
import { Semaphore } from '../util/semaphore.js';
import type { BlobStore } from './blob-store.js';
import type { StoreSpace } from './disk-space.js';
import type { DownloadArea } from './download-area.js';
import { ensureLayout, hasLayoutFile, writeLayoutFile } from './layout.js';
import type { StoreLock } from './lock.js';
import { parseManifestRefs, referencedDigests, type ManifestRefs } from './manifest.js';
import { cloneEntry, detachTag, referencedBy, type ModelIndex } from './model-index.js';
import { bundlePath, manifestFile, partialChunksFile, promptCachePath, type StorePaths } from './paths.js';
import { readSettingsFile, writeSettingsFile, type RuntimeSettings } from './settings-file.js';
import type { BlobInfo, IndexEntry, LeftoverPurge, ModelStore, StagedBlob } from './types.js';

export interface DiskModelStoreParts {
  paths: StorePaths;
  blobs: BlobStore;
  index: ModelIndex;
  downloads: DownloadArea;
  lock: StoreLock;
  logger: Logger;
}

export class DiskModelStore implements ModelStore {
  readonly root: string;
  private readonly paths: StorePaths;
  private readonly blobs: BlobStore;
  private readonly index: ModelIndex;
  private readonly downloads: DownloadArea;
  private readonly lock: StoreLock;
  private readonly logger: Logger;
  private readonly settingsMutex = new Semaphore(1);
  private closed = false;

  constructor(parts: DiskModelStoreParts) {
    this.paths = parts.paths;
    this.root = parts.paths.root;
    this.blobs = parts.blobs;
    this.index = parts.index;
    this.downloads = parts.downloads;
    this.lock = parts.lock;
    this.logger = parts.logger;
  }

  blobPath(digest: string): string {
    this.assertOpen();
    return this.blobs.path(digest);
  }

  async hasBlob(digest: string): Promise<boolean> {
    this.assertOpen();
    return this.blobs.has(digest);
  }

  async blobSize(digest: string): Promise<number | undefined> {
    this.assertOpen();
    return this.blobs.size(digest);
  }

  partialPath(digest: string): string {
    this.assertOpen();
    return this.blobs.partialPath(digest);
  }

  partialChunksPath(digest: string): string {
    this.assertOpen();
    return partialChunksFile(this.paths, digest);
  }

  async removePartial(digest: string): Promise<void> {
    this.assertOpen();
    await this.downloads.removePartial(digest);
  }

  claimDownloads(digests: readonly string[]): () => void {
    this.assertOpen();
    return this.downloads.claim(digests);
  }

  missingBytes(blobs: readonly BlobInfo[]): Promise<number> {
    this.assertOpen();
    return this.downloads.missingBytes(blobs);
  }

  space(): Promise<StoreSpace> {
    this.assertOpen();
    return this.downloads.space();
  }

  ensureSpace(what: string, neededBytes: number): Promise<void> {
    this.assertOpen();
    return this.downloads.ensureSpace(what, neededBytes);
  }

  insufficientStorage(what: string, neededBytes: number, cause?: unknown): Promise<AppError> {
    return this.downloads.insufficientStorage(what, neededBytes, cause);
  }

  discardDownloads(partials: readonly string[], blobs: readonly string[]): Promise<void> {
    this.assertOpen();
    return this.downloads.discard(partials, blobs);
  }

  purgeLeftovers(): Promise<LeftoverPurge> {
    this.assertOpen();
    return this.downloads.purgeLeftovers();
  }

  async commitPartial(digest: string, options?: { verified?: boolean; size?: number }): Promise<void> {
    this.assertOpen();
    await this.blobs.commitPartial(digest, options);
  }

  async writeBlob(bytes: Uint8Array, expectedDigest?: string): Promise<string> {
    this.assertOpen();
    return this.blobs.write(bytes, expectedDigest);
  }

  async writeBlobFromStream(source: Readable | AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    this.assertOpen();
    return this.blobs.writeFromStream(source, expected);
  }

  async stageBlobFromStream(source: Readable | AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<StagedBlob> {
    this.assertOpen();
    const staged = await this.blobs.stageFromStream(source, expected);
    return {
      ...staged,
      commit: async () => {
        this.assertOpen();
        await staged.commit();
      },
    };
  }

  async readBlob(digest: string): Promise<Buffer> {
    this.assertOpen();
    return this.blobs.read(digest);
  }

  async linkBlob(digest: string, destination: string): Promise<void> {
    this.assertOpen();
    await this.blobs.link(digest, destination);
  }

  async writeModel(manifestBytes: Uint8Array, tags: string[]): Promise<string> {
    this.assertOpen();
    const refs = parseManifestRefs(manifestBytes);
    const tagList = validTags(tags);
    const id = sha256Digest(manifestBytes);
    const files = referencedDigests(refs);
    return this.index.update(async (draft) => {
      // Checked under the mutex: a concurrent delete cannot remove a blob between this check and the commit.
      await this.assertBlobsPresent(refs);
      await writeFileAtomic(manifestFile(this.paths, id), manifestBytes);
      let entry = draft.find((e) => e.id === id);
      if (entry === undefined) {
        entry = { id, tags: [], files };
        draft.push(entry);
      } else {
        entry.files = files;
      }
      for (const tag of tagList) moveTag(draft, entry, tag);
      return id;
    });
  }

  async readManifest(id: string): Promise<Buffer> {
    this.assertOpen();
    const file = manifestFile(this.paths, id);
    try {
      return await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', `model ${id} has no manifest in the store`);
      throw err;
    }
  }

  async listModels(): Promise<IndexEntry[]> {
    this.assertOpen();
    return this.index.list();
  }

  async getModel(id: string): Promise<IndexEntry | undefined> {
    this.assertOpen();
    return this.index.get(assertSha256Digest(id, 'model ID'));
  }

  async findByTag(tag: string): Promise<IndexEntry | undefined> {
    this.assertOpen();
    return this.index.findByTag(tag);
  }

  async addTag(id: string, tag: string): Promise<void> {
    this.assertOpen();
    assertSha256Digest(id, 'model ID');
    const [valid] = validTags([tag]);
    await this.index.update((draft) => {
      const entry = draft.find((e) => e.id === id);
      if (entry === undefined) throw new AppError('not_found', `model ${id} is not in the store`);
      moveTag(draft, entry, valid!);
    });
  }

  async removeTag(tag: string): Promise<IndexEntry | undefined> {
    this.assertOpen();
    return this.index.update((draft) => {
      const entry = draft.find((e) => e.tags.includes(tag));
      if (entry === undefined) return undefined;
      entry.tags = entry.tags.filter((t) => t !== tag);
      return cloneEntry(entry);
    });
  }

  async deleteModel(id: string): Promise<string[]> {
    this.assertOpen();
    assertSha256Digest(id, 'model ID');
    return this.index.update(
      (draft) => {
        const i = draft.findIndex((e) => e.id === id);
        if (i < 0) throw new AppError('not_found', `model ${id} is not in the store`);
        const [entry] = draft.splice(i, 1);
        const stillUsed = referencedBy(draft);
        return entry!.files.filter((f) => !stillUsed.has(f));
      },
      // The entry is gone from models.json by now; a crash from here on only leaves unreferenced files.
      async (orphans) => {
        await fs.rm(manifestFile(this.paths, id), { force: true });
        await fs.rm(bundlePath(this.paths, id), { recursive: true, force: true });
        // Its saved prompt prefixes could serve no other model.
        await fs.rm(promptCachePath(this.paths, id), { recursive: true, force: true });
        for (const digest of orphans) await this.blobs.remove(digest);
        await fsyncDirectory(this.paths.blobsDir);
        this.logger.debug('model deleted', { model: id, blobsRemoved: orphans.length });
      },
    );
  }

  async purge(): Promise<void> {
    this.assertOpen();
    if (!(await hasLayoutFile(this.paths))) {
      throw new AppError('conflict', `${this.root} has no layout.json, so it is not a model store; refusing to purge it`);
    }
    await this.index.exclusive(async () => {
      // Empty index first, so a crash half-way through leaves no entry pointing at removed files.
      await this.index.replaceAllLocked([]);
      for (const dir of [this.paths.manifestsDir, this.paths.blobsDir, this.paths.bundlesDir]) {
        await fs.rm(path.dirname(dir), { recursive: true, force: true });
      }
      await fs.rm(this.paths.settingsFile, { force: true });
      await writeLayoutFile(this.paths);
      await ensureLayout(this.paths);
    });
    this.logger.info('model store purged', { path: this.root });
  }

  async diskUsage(): Promise<number> {
    this.assertOpen();
    let total = 0;
    for (const dir of [this.paths.blobsDir, this.paths.manifestsDir]) {
      for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
        const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
        if (stat?.isFile()) total += stat.size;
      }
    }
    return total;
  }

  bundleDir(id: string): string {
    this.assertOpen();
    return bundlePath(this.paths, id);
  }

  async readSettings(): Promise<RuntimeSettings> {
    this.assertOpen();
    return readSettingsFile(this.paths.settingsFile);
  }

  async writeSettings(settings: RuntimeSettings): Promise<void> {
    this.assertOpen();
    await this.settingsMutex.use(() => writeSettingsFile(this.paths.settingsFile, settings));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let index changes already under way finish before another server may take the store.
    await this.index.exclusive(async () => undefined);
    await this.settingsMutex.use(async () => undefined);
    await this.lock.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('internal', 'store is closed');
  }

  private async assertBlobsPresent(refs: ManifestRefs): Promise<void> {
    for (const ref of [...refs.layers, refs.config]) {
      const size = await this.blobs.size(ref.digest);
      if (size === undefined) throw new AppError('bad_request', `manifest references blob ${ref.digest}, which is not in the store`);
      if (ref.size !== undefined && ref.size !== size) {
        throw new AppError('bad_request', `manifest declares ${ref.size} bytes for blob ${ref.digest}, but the stored blob has ${size}`);
      }
    }
  }
}

/** Points `tag` at `entry`, taking it off whichever other entry of the draft held it. */
function moveTag(draft: IndexEntry[], entry: IndexEntry, tag: string): void {
  if (entry.tags.includes(tag)) return;
  detachTag(draft, tag);
  entry.tags.push(tag);
}

function validTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || /\s/.test(tag)) {
      throw new AppError('bad_request', `invalid tag ${JSON.stringify(tag)}: expected a non-empty name without spaces`);
    }
  }
  return [...new Set(tags)];
}
