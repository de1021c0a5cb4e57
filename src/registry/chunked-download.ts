/**
 * Parallel ranged download of one large blob: the file is sized up front, connections each
 * fetch chunks with `Range: bytes=a-b` and write them in place, and a sidecar `<partial>.chunks`
 * lists the finished byte ranges so that a killed pull fetches only the rest. A CDN that caps
 * each connection then does not cap the pull. How the blob is cut and how many connections
 * run is the ChunkPlanner's decision (chunk-planner.ts): one connection probes first, and the
 * others join only when it proves slow, since on a fast link they only add CPU work. The digest
 * is computed as the written prefix grows (PrefixHasher: the chunk at the front is hashed from
 * the read buffer, or everything in a worker where cores are spare), so it is ready moments
 * after the last write lands. Each chunk request opens its own connection (lean-get.ts
 * reads bodies into a reused buffer, one request each).
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { blobWhere, contentRangeStart, type DownloadContext, downloadSequential, placementFor, requestBlob, streamInto } from './blob-download.js';
import { type ByteRange, coveredPrefix, mergeRanges, totalBytes } from './byte-ranges.js';
import { type ChunkSidecar, readSidecar, writeSidecar } from './chunk-sidecar.js';
import { sha256File } from '../util/digest.js';
import { openPartial, removePartial, verifyOrRemove } from './blob-file.js';
import { retryable } from './http.js';
import { ChunkPlanner } from './chunk-planner.js';
import { ConnectionRamp } from './connection-ramp.js';
import { BlobWriter, WriteBehind } from './blob-writer.js';
import { type PrefixHasher, startPrefixHasher } from './prefix-hasher.js';
import { ProgressThrottle } from './progress.js';
import { errorForResponse } from './registry-errors.js';
import { withRetries } from './retry.js';
import type { BlobDownloadOptions, Descriptor, Reference } from './types.js';

export interface ChunkPlanOptions {
  /** Connections at once, at most. */
  maxConnections: number;
  /** Cut every chunk to this size instead of adapting to the link. Defaults to undefined (adaptive). */
  fixedChunkBytes?: number;
  /** Largest adaptive chunk. Defaults to the planner's DEFAULT_MAX_CHUNK_BYTES (64 MiB). */
  maxChunkBytes?: number;
}

/** Thrown inside when a server ignores or refuses Range; the caller falls back to one stream. */
class RangesUnsupported extends Error {}

/** Decides which ranges the partial file at `partialPath` already holds, and leaves it exactly `size` bytes long. */
async function prepare(handle: FileHandle, partialPath: string, sidecarPath: string | undefined, descriptor: Descriptor): Promise<ByteRange[]> {
  const size = descriptor.size;
  const present = (await handle.stat()).size;
  const sidecar = sidecarPath === undefined ? undefined : await readSidecar(sidecarPath);
  let done: ByteRange[] = [];
  if (sidecar && sidecar.digest === descriptor.digest && sidecar.size === size && present === size) {
    done = sidecar.done;
  } else if (!sidecar && present < size) {
    // A prefix left by a sequential download.
    if (present > 0) done = [[0, present]];
  } else if (!sidecar && present === size && (await sha256File(partialPath, size)).digest === descriptor.digest) {
    done = [[0, size]];
  } else {
    await handle.truncate(0);
  }
  await handle.truncate(size);
  return done;
}

/** Downloads a blob as parallel ranged chunks into `partialPath`, resuming from its sidecar. */
export async function downloadChunked(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, partialPath: string, plan: ChunkPlanOptions, options: BlobDownloadOptions): Promise<void> {
  const where = blobWhere(ref);
  const size = descriptor.size;
  // Without a record (the caller keeps none) finished chunks are known to this call only.
  const sidecarPath = options.chunksPath;
  const progress = new ProgressThrottle(options.onProgress);
  const handle = await openPartial(partialPath);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  let fallback = false;
  let hasher: PrefixHasher | undefined;
  let ramp: ConnectionRamp | undefined;
  try {
    /** One entry per finished chunk (resumed ones first), as the sidecar lists them. */
    const finished: ByteRange[] = await prepare(handle, partialPath, sidecarPath, descriptor);
    const planner = new ChunkPlanner({ size, done: finished, maxConnections: plan.maxConnections, fixedChunkBytes: plan.fixedChunkBytes, maxChunkBytes: plan.maxChunkBytes });
    /** Bytes received so far by each chunk in flight, keyed by its start. */
    const inFlight = new Map<number, number>();
    let doneBytes = totalBytes(mergeRanges(finished));
    const report = (): void => progress.report(doneBytes + [...inFlight.values()].reduce((a, b) => a + b, 0));
    report();

    // Sidecar writes are chained so that a later list never lands before an earlier one. A
    // finished chunk does not wait for its entry: the next chunk starts at once, and the list
    // is only resume information (a failed write costs a re-download, never a wrong blob).
    let saving: Promise<void> = Promise.resolve();
    const save = (): Promise<void> => {
      if (sidecarPath === undefined) return saving;
      const record: ChunkSidecar = { digest: descriptor.digest, size, done: [...finished].sort((a, b) => a[0] - b[0]) };
      saving = saving.then(() => writeSidecar(sidecarPath, record)).catch((err: unknown) => {
        ctx.logger?.warn('cannot record finished chunks; a resumed pull may fetch them again', { path: sidecarPath, error: (err as Error).message });
      });
      return saving;
    };
    await save();

    /** How far the finished ranges reach from the start without a gap. */
    let finishedPrefix = coveredPrefix(finished);
    /** Where the writes of each chunk in flight have reached, keyed by its start (the one at the prefix feeds the hasher). */
    const written = new Map<number, number>();
    const prefix = startPrefixHasher(placementFor(ctx.hashPlacement, size), partialPath, handle, () => Math.max(finishedPrefix, written.get(finishedPrefix) ?? finishedPrefix));
    hasher = prefix;
    const flusher = new WriteBehind(handle);
    /** Bytes received by this call (not resumed ones): what the ramp judges the first connection by. */
    let received = 0;
    const fetchChunk = async ([start, end]: ByteRange): Promise<void> => {
      let position = start;
      inFlight.set(start, 0);
      await fetchRange(start, end, (p) => {
        received += p - position;
        position = p;
      });
      inFlight.delete(start);
      written.delete(start);
      finished.push([start, end]);
      doneBytes += end - start;
      finishedPrefix = coveredPrefix(finished);
      // The probe chunk ended before the ramp measured by bytes: measure by it now.
      ramp?.finish();
      prefix.poke();
      void save();
    };
    const fetchRange = async (start: number, end: number, onPosition: (p: number) => void): Promise<void> => {
      let position = start;
      const chunk = `bytes ${start}-${end - 1}`;
      await withRetries(
        ctx.retry,
        async () => {
          const response = await requestBlob(ctx, ref, descriptor, `bytes=${position}-${end - 1}`, { ...options, signal });
          // 416 to a range inside the blob: the server cannot serve ranges after all.
          if (response.statusCode === 200 || response.statusCode === 416) {
            response.destroy();
            throw new RangesUnsupported();
          }
          if (response.statusCode !== 206) throw await errorForResponse(response, `blob ${descriptor.digest} on ${where}`);
          if (contentRangeStart(response.headers['content-range'] as string | undefined) !== position) {
            response.destroy();
            throw retryable(new AppError('upstream', `${where} answered the range ${chunk} of blob ${descriptor.digest} with the wrong range`));
          }
          const writer = new BlobWriter(handle, position, flusher);
          try {
            await streamInto(response, writer, end, (p, bytes) => {
              written.set(start, p);
              const hashing = prefix.wrote(p - bytes.length, bytes);
              onPosition(p);
              inFlight.set(start, p - start);
              ramp?.observe(received);
              report();
              return hashing;
            }, where, ctx.session.stall, signal, prefix.readBuffers());
          } finally {
            position = writer.position;
            onPosition(position);
          }
          if (position < end) throw retryable(new AppError('unavailable', `${where} ended the range ${chunk} of blob ${descriptor.digest} early`));
        },
        signal,
        (error, n, delayMs) => ctx.logger?.warn('chunk download interrupted; resuming', { digest: descriptor.digest, chunk, attempt: n, delayMs, error: error.message }),
      );
    };

    let firstError: unknown;
    const worker = async (): Promise<void> => {
      while (firstError === undefined) {
        const chunk = planner.next();
        if (chunk === undefined) return;
        try {
          await fetchChunk(chunk);
        } catch (err) {
          firstError ??= err;
          stop.abort();
        }
      }
    };
    // Workers never reject (they record firstError), and the planner may add some while we wait.
    const workers: Promise<void>[] = [];
    const widen = (): void => {
      while (workers.length < planner.connections && planner.unassignedBytes > 0 && firstError === undefined) workers.push(worker());
    };
    if (planner.probing && planner.unassignedBytes > 0) {
      ramp = new ConnectionRamp((bytesPerSecond) => {
        const connections = planner.measured(bytesPerSecond);
        ctx.logger?.debug('chunked download planned', { digest: descriptor.digest, bytesPerSecond: Math.round(bytesPerSecond), connections });
        widen();
      }, { probeBytes: planner.probeChunkBytes() });
    }
    widen();
    for (let i = 0; i < workers.length; i++) await workers[i];
    ramp?.dispose();
    await saving.catch(() => undefined);
    if (firstError instanceof RangesUnsupported) fallback = true;
    else if (firstError !== undefined) {
      if (options.signal?.aborted) throw new AppError('aborted', `download of blob ${descriptor.digest} was cancelled`, { cause: firstError });
      throw firstError;
    }
    if (!fallback) {
      await flusher.settle();
      const digest = await prefix.finish(size);
      await verifyOrRemove(partialPath, sidecarPath, descriptor, size, digest, where);
      if (sidecarPath !== undefined) await fs.rm(sidecarPath, { force: true });
      progress.final(size);
    }
  } catch (err) {
    if (err instanceof AppError && err.code === 'digest_mismatch') await removePartial(partialPath, sidecarPath);
    throw err;
  } finally {
    ramp?.dispose();
    options.signal?.removeEventListener('abort', onAbort);
    await hasher?.dispose();
    await handle.close();
  }
  if (fallback) {
    ctx.logger?.info('registry ignores Range; downloading blob over one connection', { digest: descriptor.digest, registry: ref.registry });
    await removePartial(partialPath, sidecarPath);
    await downloadSequential(ctx, ref, descriptor, partialPath, options);
  }
}
