/**
 * Sequential blob download: one connection, hashed while it streams, resumed with
 * `Range: bytes=N-` from whatever the partial file already holds. Each attempt starts again
 * at the registry URL, because the CDN URL it redirects to is signed and expires.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { hashFileRange, openPartial, removePartial, verifyOrRemove } from './blob-file.js';
import { networkError, retryable } from './http.js';
import { PositionalWriter } from './positional-writer.js';
import { ProgressThrottle } from './progress.js';
import { errorForResponse } from './registry-errors.js';
import { RegistrySession } from './registry-session.js';
import { type RetryPolicy, withRetries } from './retry.js';
import type { BlobDownloadOptions, Descriptor, Reference } from './types.js';

export interface DownloadContext {
  session: RegistrySession;
  retry: RetryPolicy;
  logger?: Logger;
}

/** Start offset of a `Content-Range: bytes a-b/n` header, or undefined. */
export function contentRangeStart(value: string | undefined): number | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

/** GETs the blob (optionally a range) from the registry, following its redirect to storage. */
export async function requestBlob(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, range: string | undefined, options: BlobDownloadOptions): Promise<IncomingMessage> {
  const { response } = await ctx.session.request({
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

export function blobWhere(ref: Reference): string {
  return `registry ${ref.registry} (repository ${ref.repository})`;
}

/**
 * Streams `response` into the file from `writer`'s position, feeding `hash` (when given)
 * and stopping at `limit` bytes of file position. Returns normally when the body ends; on
 * a broken connection it flushes what arrived and throws a retryable error.
 */
export async function streamInto(
  response: IncomingMessage,
  writer: PositionalWriter,
  limit: number,
  hash: Hash | undefined,
  onBytes: (position: number) => void,
  where: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (writer.position + chunk.length > limit) {
        response.destroy();
        throw new AppError('digest_mismatch', `${where} sent more bytes than the ${limit} expected`);
      }
      hash?.update(chunk);
      await writer.write(chunk);
      onBytes(writer.position);
    }
  } catch (err) {
    await writer.flush();
    if (err instanceof AppError) throw err;
    throw networkError(err, where, signal);
  }
  await writer.flush();
}

/** Downloads a blob over one connection into `partialPath`, resuming what it holds. */
export async function downloadSequential(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, partialPath: string, options: BlobDownloadOptions): Promise<void> {
  const where = blobWhere(ref);
  const size = descriptor.size;
  const progress = new ProgressThrottle(options.onProgress);
  const handle = await openPartial(partialPath);
  try {
    let present = (await handle.stat()).size;
    let hash = createHash('sha256');
    const restart = async (): Promise<void> => {
      await handle.truncate(0);
      hash = createHash('sha256');
      present = 0;
    };
    if (present > size) await restart();
    else if (present > 0) await hashFileRange(handle, 0, present, hash);
    progress.report(present);

    await withRetries(
      ctx.retry,
      async () => {
        if (present === size) return;
        const range = present > 0 ? `bytes=${present}-` : undefined;
        const response = await requestBlob(ctx, ref, descriptor, range, options);
        const status = response.statusCode ?? 0;
        if (status === 206 && range !== undefined) {
          const start = contentRangeStart(response.headers['content-range'] as string | undefined);
          if (start !== present) {
            response.destroy();
            await restart();
            throw retryable(new AppError('upstream', `${where} answered a range request for blob ${descriptor.digest} with the wrong range; starting over`));
          }
        } else if (status === 200) {
          // The server ignored Range (or we sent none): whatever was resumed must go.
          if (present > 0) await restart();
        } else if (status === 416 && range !== undefined) {
          response.resume();
          await restart();
          throw retryable(new AppError('upstream', `${where} refused to resume blob ${descriptor.digest}; starting over`));
        } else {
          throw await errorForResponse(response, `blob ${descriptor.digest} on ${where}`);
        }
        const writer = new PositionalWriter(handle, present, partialPath);
        try {
          await streamInto(response, writer, size, hash, (p) => progress.report(p), where, options.signal);
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
    // No fsync here: the store syncs before it renames the blob into place, once.
    await verifyOrRemove(partialPath, descriptor, present, `sha256:${hash.digest('hex')}`, where);
    progress.final(present);
  } catch (err) {
    if (err instanceof AppError && err.code === 'digest_mismatch') await removePartial(partialPath);
    throw err;
  } finally {
    await handle.close();
  }
}
