/**
 * A blob a client uploads by digest (Ollama's POST /api/blobs/:digest), before a `create` names
 * it: streamed into the store's blob area, hashed on the way, and made visible only when the bytes
 * hash to the digest the client announced. It is an unreferenced blob until a model names it,
 * which `purge --partials` and the store's open-time sweep of stale blobs may remove.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../store/types.js';
import { assertSha256Digest } from '../util/digest.js';
import { isDiskFull } from '../util/disk-full.js';
import { diskFilledUp } from './disk-full.js';

export interface BlobUpload {
  /** The digest the bytes must hash to (`sha256:<hex>`). */
  digest: string;
  source: Readable | AsyncIterable<Uint8Array>;
  /** The body's announced length: checked against free space before a byte is written. Defaults to unknown (no check before). */
  sizeBytes?: number;
}

/** Stores the upload; false when the store already held the blob (the body is then not read). */
export async function receiveBlob(store: ModelStore, logger: Logger, upload: BlobUpload): Promise<boolean> {
  const digest = assertSha256Digest(upload.digest);
  if (await store.hasBlob(digest)) return false;
  const what = `store the uploaded blob ${digest}`;
  await store.ensureSpace(what, upload.sizeBytes ?? 0);
  let staged;
  try {
    staged = await store.stageBlobFromStream(upload.source);
  } catch (err) {
    if (isDiskFull(err)) throw await diskFilledUp(store, logger, what, upload.sizeBytes ?? 0, err);
    throw err;
  }
  try {
    if (staged.digest !== digest) {
      throw new AppError('bad_request', `digest mismatch, expected "${digest}", got "${staged.digest}"`, { data: { param: 'digest' } });
    }
    await staged.commit();
  } finally {
    await staged.discard();
  }
  return true;
}
