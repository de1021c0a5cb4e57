/**
 * Sequential blob download: one connection, hashed as the bytes land (PrefixHasher: on this
 * thread from the read buffer, or in a worker thread where cores are spare), resumed with
 * `Range: bytes=N-` from whatever the partial file already holds. Each attempt starts again
 * at the registry URL, because the CDN URL it redirects to is signed and expires.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { openPartial, removePartial, verifyOrRemove } from './blob-file.js';
import { BlobWriter, WriteBehind } from './blob-writer.js';
import { type BodyResponse, networkError, retryable, stallError } from './http.js';
import { LeanResponse, type ReadBufferSource } from './lean-get.js';
import { type HashPlacement, type PrefixHasher, startPrefixHasher } from './prefix-hasher.js';
import { ProgressThrottle } from './progress.js';
import { errorForResponse } from './registry-errors.js';
import { RegistrySession } from './registry-session.js';
import { type RetryPolicy, withRetries } from './retry.js';
import { StallGuard, type StallPolicy } from './stall-guard.js';
import type { BlobDownloadOptions, Descriptor, Reference } from './types.js';

export interface DownloadContext {
  session: RegistrySession;
  retry: RetryPolicy;
  /** Where downloads hash their bytes (see prefix-hasher.ts). */
  hashPlacement: HashPlacement;
  logger?: Logger;
}

/** Start offset of a `Content-Range: bytes a-b/n` header, or undefined. */
export function contentRangeStart(value: string | undefined): number | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

/** GETs the blob (optionally a range) from the registry, following its redirect to storage. */
export async function requestBlob(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, range: string | undefined, options: BlobDownloadOptions): Promise<BodyResponse> {
  const { response } = await ctx.session.requestBlobBody({
    ref,
    method: 'GET',
    path: `blobs/${descriptor.digest}`,
    headers: range === undefined ? {} : { range },
    actions: 'pull',
    auth: options,
    signal: options.signal,
  });
  return response;
}

/** Blobs up to this size are hashed on this thread whatever the placement; a worker costs more to start. */
export const INLINE_HASH_BYTES = 16 * 1024 * 1024;

/** The placement for a blob of `size` bytes: a worker only pays for itself on a large one. */
export function placementFor(placement: HashPlacement, size: number): HashPlacement {
  return size > INLINE_HASH_BYTES ? placement : 'inline';
}

export function blobWhere(ref: Reference): string {
  return `registry ${ref.registry} (repository ${ref.repository})`;
}

/**
 * Writes the body of `response` into the file from `writer`'s position, stopping at `limit`
 * bytes of file position; `onBytes` hears the new position after every write, with the bytes
 * that were just written and end there (in the file by then; only valid during the call, unless
 * they lie in a buffer of `reads`, whose owner may keep it), and may ask the connection to wait
 * with a promise. Returns when the body ends; a broken connection, or one that stalls under
 * `stall`, throws a retryable error.
 */
export async function streamInto(response: BodyResponse, writer: BlobWriter, limit: number, onBytes: (position: number, bytes: Buffer) => Promise<void> | undefined, where: string, stall: StallPolicy, signal?: AbortSignal, reads?: ReadBufferSource): Promise<void> {
  const guard = new StallGuard(stall, (received) => response.destroy(stallError(where, stall, received)));
  const sink = (bytes: Buffer): Promise<void> | undefined => {
    if (writer.position + bytes.length > limit) throw new AppError('digest_mismatch', `${where} sent more bytes than were asked for (past byte ${limit})`);
    guard.progress(bytes.length);
    const flushing = writer.write(bytes);
    const hashing = onBytes(writer.position, bytes);
    const wait = flushing && hashing ? Promise.all([flushing, hashing]).then(() => undefined) : (flushing ?? hashing);
    return wait && guard.hold(wait);
  };
  try {
    if (response instanceof LeanResponse) await response.pump(sink, reads);
    else for await (const chunk of response as AsyncIterable<Buffer>) await sink(chunk);
  } catch (err) {
    response.destroy();
    if (err instanceof AppError) throw err;
    throw networkError(err, where, signal);
  } finally {
    guard.dispose();
  }
}

/** Downloads a blob over one connection into `partialPath`, resuming what it holds. */
export async function downloadSequential(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, partialPath: string, options: BlobDownloadOptions): Promise<void> {
  const where = blobWhere(ref);
  const size = descriptor.size;
  const progress = new ProgressThrottle(options.onProgress);
  const handle = await openPartial(partialPath);
  let hasher: PrefixHasher | undefined;
  try {
    let present = (await handle.stat()).size;
    // Bytes [0, written) are in the file; the hash trails them (or keeps up, inline).
    let written = present;
    const startHasher = (): void => {
      hasher = startPrefixHasher(placementFor(ctx.hashPlacement, size), partialPath, handle, () => written);
    };
    const restart = async (): Promise<void> => {
      await hasher?.dispose();
      await handle.truncate(0);
      present = written = 0;
      startHasher();
    };
    if (present > size) await restart();
    else startHasher();
    const flusher = new WriteBehind(handle);
    progress.report(present);

    await withRetries(
      ctx.retry,
      async () => {
        if (present === size) return;
        const range = present > 0 ? `bytes=${present}-` : undefined;
        const response = await requestBlob(ctx, ref, descriptor, range, options);
        const status = response.statusCode ?? 0;
        if (status === 206 && range !== undefined) {
          const header = response.headers['content-range'] as string | undefined;
          if (contentRangeStart(header) !== present) {
            response.destroy();
            const got = header === undefined ? 'no Content-Range' : `Content-Range ${JSON.stringify(header)}`;
            const error = retryable(new AppError('upstream', `${where} answered a range request for blob ${descriptor.digest} from byte ${present} with the wrong range (${got}); the partial download starts over`));
            await restart();
            throw error;
          }
        } else if (status === 200) {
          // The server ignored Range (or we sent none): whatever was resumed must go.
          if (present > 0) await restart();
        } else if (status === 416 && range !== undefined) {
          response.resume();
          const error = retryable(new AppError('upstream', `${where} refused to resume blob ${descriptor.digest} from byte ${present} (HTTP 416); the partial download starts over`));
          await restart();
          throw error;
        } else {
          throw await errorForResponse(response, `blob ${descriptor.digest} on ${where}`);
        }
        const writer = new BlobWriter(handle, present, flusher);
        try {
          await streamInto(response, writer, size, (p, bytes) => {
            written = p;
            progress.report(p);
            return hasher?.wrote(p - bytes.length, bytes);
          }, where, ctx.session.stall, options.signal, hasher?.readBuffers());
        } finally {
          present = writer.position;
        }
        if (present < size) {
          throw retryable(new AppError('unavailable', `${where} ended blob ${descriptor.digest} after ${present} of ${size} bytes`));
        }
      },
      options.signal,
      (error, n, delayMs) => ctx.logger?.warn('blob download interrupted; resuming', { digest: descriptor.digest, registry: ref.registry, attempt: n, delayMs, present, error: error.message }),
    );
    // The store fsyncs before it renames the blob into place; the flushing only makes that quick.
    await flusher.settle();
    const digest = await hasher!.finish(present);
    await verifyOrRemove(partialPath, options.chunksPath, descriptor, present, digest, where);
    progress.final(present);
  } catch (err) {
    if (err instanceof AppError && err.code === 'digest_mismatch') await removePartial(partialPath, options.chunksPath);
    throw err;
  } finally {
    await hasher?.dispose();
    await handle.close();
  }
}
