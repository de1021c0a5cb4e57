/**
 * Contract of the content-addressed model store (disk only, never network). The layout is
 * Docker Model Runner's: layout.json, models.json, manifests/sha256/<hex>, blobs/sha256/<hex>,
 * blobs/sha256/<hex>.incomplete for partial downloads, bundles/sha256/<hex>/ for runtime files.
 */
import type { Readable } from 'node:stream';
import type { AppError } from '../errors.js';
import type { StoreSpace } from './disk-space.js';

export type { StoreSpace } from './disk-space.js';

/** One model in models.json: its ID (sha256 of the manifest bytes), tags, and every blob it references. */
export interface IndexEntry {
  id: string;
  tags: string[];
  files: string[];
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/** What purgeLeftovers removed. */
export interface LeftoverPurge {
  /** Partial downloads (each with its chunk record). */
  partials: number;
  /** Complete blobs that no model named. */
  blobs: number;
  freedBytes: number;
}

/** Verified bytes that are not a blob yet (see ModelStore.stageBlobFromStream). */
export interface StagedBlob extends BlobInfo {
  /** Makes the bytes visible as the blob `digest`. At most once. */
  commit(): Promise<void>;
  /** Removes the bytes unless they were committed; safe to call at any time, and again. */
  discard(): Promise<void>;
}

export interface ModelStore {
  readonly root: string;

  /** Final path of a blob (it may not exist). Validates the digest's form. */
  blobPath(digest: string): string;
  hasBlob(digest: string): Promise<boolean>;
  /** Size of a present blob, undefined when absent. */
  blobSize(digest: string): Promise<number | undefined>;
  /** Where a download of `digest` accumulates (`<hex>.incomplete`); it survives restarts so pulls resume. */
  partialPath(digest: string): string;
  /** Where a chunked download of `digest` records its finished chunks; it lives and goes with the partial. */
  partialChunksPath(digest: string): string;
  /** Removes the partial download of `digest` with its chunk record. */
  removePartial(digest: string): Promise<void>;
  /**
   * Marks blobs as being downloaded until the returned function is called: purgeLeftovers and
   * discardDownloads leave claimed partials and blobs alone (another download still needs them).
   */
  claimDownloads(digests: readonly string[]): () => void;
  /** Bytes still to write before all `blobs` are present: sizes minus present blobs and partial bytes. */
  missingBytes(blobs: readonly BlobInfo[]): Promise<number>;
  /** Free space of the store's file system and what the store could free. */
  space(): Promise<StoreSpace>;
  /** Throws `insufficient_storage` (naming `what`, "to pull ai/x") when `neededBytes` more do not fit. */
  ensureSpace(what: string, neededBytes: number): Promise<void>;
  /** The `insufficient_storage` error for a write that found the disk full, with today's numbers. */
  insufficientStorage(what: string, neededBytes: number, cause?: unknown): Promise<AppError>;
  /**
   * Undoes a failed download: removes the partials of `partials`, and those of `blobs` (blobs it
   * completed) that no model names and no other download claims.
   */
  discardDownloads(partials: readonly string[], blobs: readonly string[]): Promise<void>;
  /** Removes every unclaimed partial download and every unclaimed blob that no model names. */
  purgeLeftovers(): Promise<LeftoverPurge>;
  /**
   * Makes a partial file visible as the blob `digest`. With `verified` the caller has already hashed
   * the bytes (the puller hashes while streaming); otherwise the store hashes them. A mismatch deletes
   * the partial and throws `digest_mismatch`.
   */
  commitPartial(digest: string, options?: { verified?: boolean; size?: number }): Promise<void>;
  /** Writes small bytes (a config, a manifest-sized blob); checks `expectedDigest` when given. Returns the digest. */
  writeBlob(bytes: Uint8Array, expectedDigest?: string): Promise<string>;
  /** Streams into a new blob, hashing while writing; checks `expected` when given. */
  writeBlobFromStream(source: Readable | AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo>;
  /**
   * Like writeBlobFromStream, but the verified bytes become a blob only on commit(): for writers that
   * learn which blobs they need only after reading them (a tarball whose manifest comes last).
   */
  stageBlobFromStream(source: Readable | AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<StagedBlob>;
  readBlob(digest: string): Promise<Buffer>;
  /** Hard-links (or copies across filesystems) a blob to `destination`, replacing what is there. */
  linkBlob(digest: string, destination: string): Promise<void>;

  /**
   * Stores a manifest and indexes it under `tags` (moving each tag off any other model). Every blob the
   * manifest references must already be present. Returns the model ID (sha256 of the bytes).
   */
  writeModel(manifestBytes: Uint8Array, tags: string[]): Promise<string>;
  readManifest(id: string): Promise<Buffer>;
  listModels(): Promise<IndexEntry[]>;
  getModel(id: string): Promise<IndexEntry | undefined>;
  findByTag(tag: string): Promise<IndexEntry | undefined>;
  /** Points `tag` at model `id`, atomically moving it off whichever model held it. */
  addTag(id: string, tag: string): Promise<void>;
  /** Removes a tag; returns the entry that held it (after removal), or undefined if none did. */
  removeTag(tag: string): Promise<IndexEntry | undefined>;
  /** Removes the model, its manifest, its bundle and every blob no other model references. Returns removed blob digests. */
  deleteModel(id: string): Promise<string[]>;
  /** Removes every model and blob; refuses when layout.json is missing (not a store). */
  purge(): Promise<void>;
  /** Bytes used by blobs and manifests. */
  diskUsage(): Promise<number>;
  /** Directory for a model's runtime files (hard links to its blobs under their expected names). */
  bundleDir(id: string): string;

  /** Per-model runtime settings persisted by `_configure`; keyed by model ID. */
  readSettings(): Promise<Record<string, Record<string, unknown>>>;
  writeSettings(settings: Record<string, Record<string, unknown>>): Promise<void>;

  /** Releases the store lock. The store refuses use afterwards. */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Partial downloads, and blobs no manifest names, untouched for longer than this are removed at open. Defaults to 7 days. */
  staleAfterMs?: number;
}
