/**
 * Parallel ranged download of one large blob: the file is sized up front, `concurrency`
 * connections each fetch whole chunks with `Range: bytes=a-b` and write them in place, and a
 * sidecar `<partial>.chunks` lists the finished chunks so that a killed pull fetches only
 * the rest. A CDN that caps each connection then does not cap the pull. One connection
 * starts; the others join only when it proves slow (ConnectionRamp), since on a fast link
 * they only add CPU work. The digest is computed in a worker thread as the written prefix
 * grows (PrefixHasher), so it is ready moments after the last write lands. Each chunk request
 * opens its own connection (lean-get.ts reads bodies into a reused buffer, one request each).
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { blobWhere, contentRangeStart, type DownloadContext, downloadSequential, requestBlob, streamInto } from './blob-download.js';
import { type ChunkSidecar, readSidecar, writeSidecar } from './chunk-sidecar.js';
import { hashFile, openPartial, removePartial, verifyOrRemove } from './blob-file.js';
import { retryable } from './http.js';
import { ConnectionRamp, DEFAULT_PROBE_BYTES } from './connection-ramp.js';
import { BlobWriter, WriteBehind } from './blob-writer.js';
import { PrefixHasher } from './prefix-hasher.js';
import { ProgressThrottle } from './progress.js';
import { errorForResponse } from './registry-errors.js';
import { withRetries } from './retry.js';
import type { BlobDownloadOptions, Descriptor, Reference } from './types.js';


export interface ChunkPlan {
  /** Bytes per chunk (the last one may be shorter). */
  chunkBytes: number;
  /** Connections at once. */
  concurrency: number;
}

/** Thrown inside when a server ignores or refuses Range; the caller falls back to one stream. */
class RangesUnsupported extends Error {}

function chunkBounds(index: number, plan: ChunkPlan, size: number): { start: number; end: number } {
  const start = index * plan.chunkBytes;
  return { start, end: Math.min(size, start + plan.chunkBytes) };
}

/** Decides which chunks the partial file already holds, and leaves it exactly `size` bytes long. */
async function prepare(handle: FileHandle, sidecarPath: string | undefined, descriptor: Descriptor, plan: ChunkPlan, chunkCount: number): Promise<Set<number>> {
  const size = descriptor.size;
  const present = (await handle.stat()).size;
  const sidecar = sidecarPath === undefined ? undefined : await readSidecar(sidecarPath);
  const done = new Set<number>();
  if (sidecar && sidecar.digest === descriptor.digest && sidecar.size === size && sidecar.chunkBytes === plan.chunkBytes && present === size && Array.isArray(sidecar.done)) {
    for (const i of sidecar.done) if (Number.isInteger(i) && i >= 0 && i < chunkCount) done.add(i);
  } else if (!sidecar && present < size) {
    // A prefix left by a sequential download: every whole chunk inside it is already there.
    for (let i = 0; i < chunkCount && chunkBounds(i, plan, size).end <= present; i++) done.add(i);
  } else if (!sidecar && present === size && (await hashFile(handle, size)) === descriptor.digest) {
    for (let i = 0; i < chunkCount; i++) done.add(i);
  } else {
    await handle.truncate(0);
  }
  await handle.truncate(size);
  return done;
}

/** Downloads a blob as parallel ranged chunks into `partialPath`, resuming from its sidecar. */
export async function downloadChunked(ctx: DownloadContext, ref: Reference, descriptor: Descriptor, partialPath: string, plan: ChunkPlan, options: BlobDownloadOptions): Promise<void> {
  const where = blobWhere(ref);
  const size = descriptor.size;
  // Without a record (the caller keeps none) finished chunks are known to this call only.
  const sidecarPath = options.chunksPath;
  const chunkCount = Math.ceil(size / plan.chunkBytes);
  const progress = new ProgressThrottle(options.onProgress);
  const handle = await openPartial(partialPath);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  let fallback = false;
  let hasher: PrefixHasher | undefined;
  try {
    const done = await prepare(handle, sidecarPath, descriptor, plan, chunkCount);
    const inFlight = new Map<number, number>();
    let doneBytes = [...done].reduce((sum, i) => sum + chunkBounds(i, plan, size).end - chunkBounds(i, plan, size).start, 0);
    const report = (): void => progress.report(doneBytes + [...inFlight.values()].reduce((a, b) => a + b, 0));
    report();

    // Sidecar writes are chained so that a later list never lands before an earlier one. A
    // finished chunk does not wait for its entry: the next chunk starts at once, and the list
    // is only resume information (a failed write costs a re-download, never a wrong blob).
    let saving: Promise<void> = Promise.resolve();
    const save = (): Promise<void> => {
      if (sidecarPath === undefined) return saving;
      const record: ChunkSidecar = { digest: descriptor.digest, size, chunkBytes: plan.chunkBytes, done: [...done].sort((a, b) => a - b) };
      saving = saving.then(() => writeSidecar(sidecarPath, record)).catch((err: unknown) => {
        ctx.logger?.warn('cannot record finished chunks; a resumed pull may fetch them again', { path: sidecarPath, error: (err as Error).message });
      });
      return saving;
    };
    await save();

    const queue = [...Array(chunkCount).keys()].filter((i) => !done.has(i));
    let frontier = 0;
    /** Where the writes of each unfinished chunk have reached (the front one feeds the hasher). */
    const written = new Map<number, number>();
    const prefix = new PrefixHasher(partialPath, () => {
      while (done.has(frontier)) frontier++;
      const base = Math.min(size, frontier * plan.chunkBytes);
      return Math.max(base, written.get(frontier) ?? base);
    });
    hasher = prefix;
    prefix.poke();
    const flusher = new WriteBehind(handle);
    /** Bytes received by this call (not resumed ones): what the ramp judges the first connection by. */
    let received = 0;
    let ramp: ConnectionRamp | undefined;
    const fetchChunk = async (index: number): Promise<void> => {
      const { start, end } = chunkBounds(index, plan, size);
      let position = start;
      await fetchRange(index, start, end, (p) => {
        received += p - position;
        position = p;
      });
      inFlight.delete(index);
      written.delete(index);
      done.add(index);
      doneBytes += end - start;
      prefix.poke();
      void save();
    };
    const fetchRange = async (index: number, start: number, end: number, onPosition: (p: number) => void): Promise<void> => {
      let position = start;
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
            throw retryable(new AppError('upstream', `${where} answered chunk ${index} of blob ${descriptor.digest} with the wrong range`));
          }
          const writer = new BlobWriter(handle, position, flusher);
          try {
            await streamInto(response, writer, end, (p) => {
              written.set(index, p);
              prefix.poke();
              onPosition(p);
              inFlight.set(index, p - start);
              ramp?.observe(received);
              report();
            }, where, ctx.session.stall, signal);
          } finally {
            position = writer.position;
            onPosition(position);
          }
          if (position < end) throw retryable(new AppError('unavailable', `${where} ended chunk ${index} of blob ${descriptor.digest} early`));
        },
        signal,
        (error, n, delayMs) => ctx.logger?.warn('chunk download interrupted; resuming', { digest: descriptor.digest, chunk: index, attempt: n, delayMs, error: error.message }),
      );
    };

    let firstError: unknown;
    const worker = async (): Promise<void> => {
      while (queue.length > 0 && firstError === undefined) {
        const index = queue.shift()!;
        try {
          await fetchChunk(index);
        } catch (err) {
          firstError ??= err;
          stop.abort();
        }
      }
    };
    // Workers never reject (they record firstError), and the ramp may add some while we wait.
    const workers: Promise<void>[] = [worker()];
    const widen = (): void => {
      for (let i = 1; i < plan.concurrency && queue.length > 0; i++) workers.push(worker());
    };
    // A probe needs a chunk it can measure; small chunks (a tuned client, tests) get every connection at once.
    if (plan.chunkBytes < DEFAULT_PROBE_BYTES) widen();
    else if (plan.concurrency > 1 && queue.length > 0) ramp = new ConnectionRamp(widen);
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
