/**
 * The part of the registry client the catalog uses. Written as a structural type so that the
 * catalog depends on the registry's contract (src/registry/types.ts), not on its class, and a
 * test can hand it the real client pointed at a local registry.
 */
import type { Readable } from 'node:stream';
import type { BlobDownloadOptions, Descriptor, PullAuth, Reference, ResolvedManifest } from '../registry/types.js';

export interface BlobUploadOptions {
  /** Credentials for the push scope. Defaults to the client's stored ones. */
  auth?: PullAuth;
  /** Called with the bytes of this blob uploaded so far. */
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
}

export interface CatalogRegistry {
  resolveManifest(ref: Reference, auth?: PullAuth, signal?: AbortSignal): Promise<ResolvedManifest>;
  /** Downloads (resuming what `partialPath` already holds) and verifies the digest while streaming. */
  downloadBlob(ref: Reference, descriptor: Descriptor, partialPath: string, options?: BlobDownloadOptions): Promise<unknown>;
  pushBlob(ref: Reference, descriptor: Descriptor, openStream: () => Readable, options?: BlobUploadOptions): Promise<unknown>;
  pushManifest(ref: Reference, bytes: Buffer, mediaType: string, auth?: PullAuth): Promise<unknown>;
}
