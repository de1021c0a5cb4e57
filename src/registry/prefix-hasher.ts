/**
 * Hashes the finished prefix of a file that is being filled out of order, while the rest
 * still downloads, so that a chunked download does not end with a second full pass over the
 * file. Reads come from the page cache the chunks were just written through.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { HASH_READ_BYTES, hashFileRange } from './blob-file.js';

export class PrefixHasher {
  private readonly hash = createHash('sha256');
  private readonly buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  private position = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  /**
   * @param handle the file being filled
   * @param readyUpTo how many leading bytes are final right now (grows as chunks finish)
   */
  constructor(
    private readonly handle: FileHandle,
    private readonly readyUpTo: () => number,
  ) {}

  /** Starts hashing newly finished bytes in the background unless that already runs. */
  poke(): void {
    if (this.running || this.failure !== undefined) return;
    this.running = this.advance()
      .catch((err: unknown) => {
        this.failure = err;
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Waits until no background read is in flight (before the file handle closes). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Waits for background work, hashes whatever is left up to `size`, and returns the digest. */
  async finish(size: number): Promise<string> {
    while (this.running) await this.running;
    if (this.failure !== undefined) throw this.failure;
    if (this.position < size) await hashFileRange(this.handle, this.position, size, this.hash, this.buffer);
    return `sha256:${this.hash.digest('hex')}`;
  }

  private async advance(): Promise<void> {
    for (;;) {
      const end = this.readyUpTo();
      if (this.position >= end) return;
      await hashFileRange(this.handle, this.position, end, this.hash, this.buffer);
      this.position = end;
    }
  }
}
