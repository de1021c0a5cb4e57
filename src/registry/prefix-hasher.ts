/**
 * Hashes the finished prefix of a partial file while it downloads (in order or out of order),
 * so that the digest is ready moments after the last write instead of after a second pass over
 * the file. "Finished" includes the written part of the chunk at the front. Two placements:
 *
 * - 'inline' (InlinePrefixHasher): bytes written at the hash's front are hashed on this thread,
 *   straight from the socket's read buffer, while they are still in the CPU's cache; bytes that
 *   land ahead of the front (another connection's chunk, a resumed prefix) are read back from
 *   the file once the front reaches them.
 * - 'worker' (WorkerPrefixHasher): a worker thread reads the file behind the writes and hashes it
 *   on another core (hash-worker.ts).
 *
 * Why both: measured pulling 500 MB from a loopback registry on a 2-vCPU AMD EPYC (Zen 4), the
 * worker cost the process ~0.5 s of CPU for the hash against ~0.3 s inline, since it reads every
 * byte a second time out of the page cache, and it starts a Node environment of its own. That
 * spare core is what the worker buys its parallelism with; where there is none (two cores, one of
 * them busy with the registry or with anyone else), the cheaper placement is also the faster one.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { AppError } from '../errors.js';
import { HASH_READ_BYTES } from './blob-file.js';
import { FileHashWorker } from './hash-worker.js';

export type HashPlacement = 'inline' | 'worker';

/** Below this many cores the hash stays on the downloading thread. */
export const WORKER_HASH_MIN_CORES = 3;

/** Where the hash of a download goes on a machine with `cores` cores (os.availableParallelism()). */
export function defaultHashPlacement(cores: number = availableParallelism()): HashPlacement {
  return cores >= WORKER_HASH_MIN_CORES ? 'worker' : 'inline';
}

export interface PrefixHasher {
  /**
   * `bytes` were just written at file position `start` (they are only valid during the call).
   * Call after every write; cheap.
   */
  wrote(start: number, bytes: Buffer): void;
  /** More of the prefix may be final (a chunk ahead of the front finished); catches up with it. */
  poke(): void;
  /** Hashes whatever is left up to `size` and returns the digest; every write must have landed. */
  finish(size: number): Promise<string>;
  /** Stops hashing; call on every path, before the file is closed. */
  dispose(): Promise<void>;
}

/**
 * @param placement where the hashing runs
 * @param path the partial file (the worker opens it again)
 * @param handle the partial file, open for reading (the inline hasher reads gaps with it)
 * @param readyUpTo how many leading bytes of the file are final right now (grows as writes land)
 */
export function startPrefixHasher(placement: HashPlacement, path: string, handle: FileHandle, readyUpTo: () => number): PrefixHasher {
  const hasher = placement === 'worker' ? new WorkerPrefixHasher(path, readyUpTo) : new InlinePrefixHasher(handle, readyUpTo);
  hasher.poke();
  return hasher;
}

function hashError(err: unknown): AppError {
  return new AppError('internal', `cannot hash the partial download: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class InlinePrefixHasher implements PrefixHasher {
  private readonly hash = createHash('sha256');
  /** Bytes [0, hashed) of the file are in the hash. */
  private hashed = 0;
  /** Reading bytes back from the file, while the front lags behind what is final. */
  private catchingUp: Promise<void> | undefined;
  private failure: unknown;
  private stopped = false;
  private block: Buffer | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly readyUpTo: () => number,
  ) {}

  /** Bytes [0, n) are in the hash (for tests and progress). */
  get hashedBytes(): number {
    return this.hashed;
  }

  /** Resolves once the read-back in flight (if any) has reached what was final. */
  async caughtUp(): Promise<void> {
    await this.catchingUp;
  }

  wrote(start: number, bytes: Buffer): void {
    // While a catch-up reads the file, it owns the front: these bytes are read back with the rest.
    if (start === this.hashed && this.catchingUp === undefined && !this.stopped && this.failure === undefined) {
      this.hash.update(bytes);
      this.hashed += bytes.length;
      return;
    }
    this.poke();
  }

  poke(): void {
    if (this.catchingUp !== undefined || this.stopped || this.failure !== undefined || this.readyUpTo() <= this.hashed) return;
    this.catchingUp = this.readBack(this.readyUpTo).then(
      () => {
        this.catchingUp = undefined;
      },
      (err: unknown) => {
        this.failure ??= err;
        this.catchingUp = undefined;
      },
    );
  }

  async finish(size: number): Promise<string> {
    await this.catchingUp;
    if (this.failure === undefined) await this.readBack(() => size).catch((err: unknown) => (this.failure ??= err));
    if (this.failure !== undefined) throw hashError(this.failure);
    if (this.hashed !== size) throw hashError(new Error(`hashed ${this.hashed} bytes of ${size}`));
    this.stopped = true;
    return `sha256:${this.hash.digest('hex')}`;
  }

  async dispose(): Promise<void> {
    this.stopped = true;
    await this.catchingUp;
  }

  /** Reads bytes [hashed, end()) back from the file into the hash, re-asking `end` after each read. */
  private async readBack(end: () => number): Promise<void> {
    for (let target = end(); this.hashed < target && !this.stopped; target = end()) {
      this.block ??= Buffer.allocUnsafe(HASH_READ_BYTES);
      const want = Math.min(this.block.length, target - this.hashed);
      const { bytesRead } = await this.handle.read(this.block, 0, want, this.hashed);
      if (bytesRead === 0) throw new Error(`file ended at byte ${this.hashed} while hashing up to ${target}`);
      if (this.stopped) return;
      this.hash.update(bytesRead === this.block.length ? this.block : this.block.subarray(0, bytesRead));
      this.hashed += bytesRead;
    }
  }
}

/** New final bytes that are worth a message to the worker; finish() hands over the rest. */
const POKE_BYTES = 4 * 1024 * 1024;

export class WorkerPrefixHasher implements PrefixHasher {
  private readonly worker: FileHashWorker;
  private handedOver = 0;

  constructor(
    path: string,
    private readonly readyUpTo: () => number,
  ) {
    this.worker = new FileHashWorker(path);
  }

  wrote(): void {
    this.poke();
  }

  /** Hands newly finished bytes to the worker. */
  poke(): void {
    const ready = this.readyUpTo();
    if (ready - this.handedOver < POKE_BYTES && this.handedOver > 0) return;
    this.handedOver = ready;
    this.worker.advance(ready);
  }

  finish(size: number): Promise<string> {
    return this.worker.digest(size);
  }

  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}
