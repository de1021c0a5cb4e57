/**
 * Writes received bytes at explicit positions of a partial file, synchronously, straight from
 * the socket's reused read buffer (see lean-get.ts), and keeps the file's dirty pages flushed
 * behind the writes so that the store's fsync before its rename finds little left to do.
 *
 * Why synchronous: the read buffer is reused by the next read, so an asynchronous write would
 * need a copy of every byte (or a fresh buffer per read, the allocation lean-get.ts avoids).
 * One writeSync copies at most LEAN_READ_BYTES (1 MiB) into the page cache, well under a
 * millisecond, and the flushing below keeps dirty pages far from the kernel's limits, where a
 * write would otherwise be throttled.
 *
 * Why flush behind: the store fsyncs every blob before it becomes visible. Left to the end,
 * that fsync wrote 500 MB in ~0.2 s after the last byte arrived; started every FLUSH_EVERY_BYTES
 * in the thread pool (fdatasync), it overlaps the download and the final fsync takes ~0.01 s.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { systemErrorText } from '../util/disk-full.js';

/** Dirty bytes that start a background fdatasync. */
export const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;
/** Writes wait (the socket pauses) while this many bytes are written but not yet flushed. */
export const MAX_UNFLUSHED_BYTES = 256 * 1024 * 1024;

/**
 * Background fdatasync of one file, shared by every writer of it. A failed flush fails the
 * download: the kernel reports a writeback error once, so the commit's fsync may not see it.
 */
export class WriteBehind {
  private unflushed = 0;
  private flushing: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly handle: FileHandle,
    private readonly flushEveryBytes = FLUSH_EVERY_BYTES,
    private readonly maxUnflushedBytes = MAX_UNFLUSHED_BYTES,
  ) {}

  /** Counts `bytes` just written; returns a promise when the writer should wait for a flush. */
  wrote(bytes: number): Promise<void> | undefined {
    this.throwIfFailed();
    this.unflushed += bytes;
    if (this.unflushed >= this.flushEveryBytes && this.flushing === undefined) this.start();
    if (this.unflushed >= this.maxUnflushedBytes && this.flushing !== undefined) return this.flushing.then(() => this.throwIfFailed());
    return undefined;
  }

  /** Waits for the flush in flight (not for a new one) and reports its failure. */
  async settle(): Promise<void> {
    await this.flushing;
    this.throwIfFailed();
  }

  private start(): void {
    // Everything written before this call is covered; later bytes count towards the next flush.
    const covered = this.unflushed;
    this.flushing = this.handle.datasync().then(
      () => {
        this.unflushed -= covered;
        this.flushing = undefined;
        if (this.unflushed >= this.flushEveryBytes) this.start();
      },
      (err: unknown) => {
        this.failure ??= err;
        this.flushing = undefined;
      },
    );
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new AppError('internal', `cannot flush the partial download: ${systemErrorText(this.failure)}`, { cause: this.failure });
    }
  }
}

export class BlobWriter {
  /** File position where the next byte goes. */
  position: number;

  /**
   * @param handle file opened for positional writes (not in append mode)
   * @param position where the first byte goes
   * @param flusher background flushing shared by the file's writers. Defaults to none.
   */
  constructor(
    private readonly handle: FileHandle,
    position: number,
    private readonly flusher?: WriteBehind,
  ) {
    this.position = position;
  }

  /** Writes all of `bytes` at `position` before returning; a promise asks the caller to wait. */
  write(bytes: Buffer): Promise<void> | undefined {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.handle.fd, bytes, done, bytes.length - done, this.position + done);
    } catch (err) {
      throw new AppError('internal', `cannot write the partial download: ${systemErrorText(err)}`, { cause: err });
    } finally {
      this.position += done;
    }
    return this.flusher?.wrote(done);
  }
}
