/**
 * Buffers a response into large blocks and writes them at explicit file positions, one
 * block on disk while the next fills. Network chunks are ~16-64 KiB; writing each one
 * would cost a thread-pool round trip apiece, which is what limits naive stream piping.
 */
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';

/** Size of each of the two blocks a writer alternates between. */
export const DEFAULT_WRITE_BLOCK_BYTES = 4 * 1024 * 1024;

/** Two reusable blocks; a caller that writes many ranges in turn keeps one pair. */
export function allocateBlocks(blockBytes = DEFAULT_WRITE_BLOCK_BYTES): [Buffer, Buffer] {
  return [Buffer.allocUnsafe(blockBytes), Buffer.allocUnsafe(blockBytes)];
}

async function writeFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await handle.write(buffer, offset, length - offset, position + offset);
    offset += bytesWritten;
  }
}

export class PositionalWriter {
  private current: Buffer;
  private spare: Buffer;
  private fill = 0;
  private pending: Promise<void> | undefined;
  private failure: unknown;
  /** File position where the next block will be written. */
  private nextPosition: number;

  /**
   * @param handle file opened for positional writes (not in append mode)
   * @param position where the first byte goes
   * @param blocks two equal buffers owned by this writer until flush() resolves
   */
  constructor(
    private readonly handle: FileHandle,
    position: number,
    blocks: [Buffer, Buffer],
    private readonly path: string,
  ) {
    this.nextPosition = position;
    [this.current, this.spare] = blocks;
  }

  /** Bytes handed to write() so far, on disk once flush() resolves; plus the start position. */
  get position(): number {
    return this.nextPosition + this.fill;
  }

  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.current.length - this.fill);
      chunk.copy(this.current, this.fill, offset, offset + n);
      this.fill += n;
      offset += n;
      if (this.fill === this.current.length) await this.swap();
    }
  }

  /** Writes what is buffered and waits for every write; afterwards `position` bytes are in the file. */
  async flush(): Promise<void> {
    if (this.fill > 0) await this.swap();
    await this.pending;
    this.pending = undefined;
    this.throwIfFailed();
  }

  private async swap(): Promise<void> {
    await this.pending;
    this.throwIfFailed();
    const block = this.current;
    const length = this.fill;
    const position = this.nextPosition;
    this.nextPosition += length;
    this.current = this.spare;
    this.spare = block;
    this.fill = 0;
    // Caught here and rethrown by the next swap/flush: a rejected promise nobody awaits yet must not go unhandled.
    this.pending = writeFully(this.handle, block, length, position).catch((err: unknown) => {
      this.failure = err;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new AppError('internal', `cannot write ${this.path}: ${(this.failure as Error).message}`, { cause: this.failure });
    }
  }
}
