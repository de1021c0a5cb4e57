/**
 * Hashes the finished prefix of a partial file while it downloads (in order or out of order),
 * so that the digest is ready moments after the last write instead of after a second pass over
 * the file. "Finished" includes the written part of the chunk at the front. Two placements:
 *
 * - 'inline' (InlinePrefixHasher): bytes written at the hash's front are hashed on this thread,
 *   straight from the socket's read buffer, while they are still in the CPU's cache; bytes that
 *   land ahead of the front (another connection's chunk, a resumed prefix) are read back from
 *   the file once the front reaches them.
 * - 'worker' (WorkerPrefixHasher): a worker thread hashes on another core (hash-worker.ts): the
 *   bytes at the front from the shared slots the socket read them into (read-ring.ts), anything
 *   else by reading the file back behind the writes.
 *
 * Why both: the worker costs CPU of its own (a Node environment, a message per read, and a read
 * back of whatever missed a slot), which a spare core pays for; where there is none, the cheaper
 * placement is as fast. Measured pulling 500 MB from a loopback registry on a 2-vCPU AMD EPYC,
 * whole pulls in a fresh process (pull-once), alternated, medians of 8: inline 679 MB/s with
 * 0.64 s of CPU; the worker 695 MB/s with 0.73-0.80 s (from slots; 652 MB/s and 0.80-0.88 s when
 * it read every byte back from the page cache). So two cores keep the hash inline.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { AppError } from '../errors.js';
import { HASH_READ_BYTES } from './blob-file.js';
import { FileHashWorker } from './hash-worker.js';
import type { ReadBufferSource } from './lean-get.js';
import { ReadRing } from './read-ring.js';

export type HashPlacement = 'inline' | 'worker';

/** Below this many cores the hash stays on the downloading thread. */
export const WORKER_HASH_MIN_CORES = 3;

/** Where the hash of a download goes on a machine with `cores` cores (os.availableParallelism()). */
export function defaultHashPlacement(cores: number = availableParallelism()): HashPlacement {
  return cores >= WORKER_HASH_MIN_CORES ? 'worker' : 'inline';
}

export interface PrefixHasher {
  /**
   * `bytes` were just written at file position `start` (they are only valid during the call,
   * unless they lie in one of this hasher's read buffers, which it may keep). Call after every
   * write; cheap. A promise asks the connection to read no more until it settles.
   */
  wrote(start: number, bytes: Buffer): Promise<void> | undefined;
  /** Read buffers for one connection whose bytes this hasher can take without a copy, if it has any. */
  readBuffers(): ReadBufferSource | undefined;
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

  readBuffers(): undefined {
    return undefined;
  }

  wrote(start: number, bytes: Buffer): undefined {
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
  /** The connections' read buffers, shared with the worker. */
  private readonly ring = new ReadRing();
  /** Bytes [0, handedOver) of the file are the worker's to hash. */
  private handedOver = 0;

  constructor(
    path: string,
    private readonly readyUpTo: () => number,
  ) {
    const ring = this.ring;
    this.worker = new FileHashWorker(path, { shared: ring.shared, slotBytes: ring.slotBytes, onFreed: (slot) => ring.giveBack(slot), onStopped: () => ring.abandon() });
  }

  readBuffers(): ReadBufferSource {
    return this.ring.reader();
  }

  /**
   * Bytes at the front that sit in a shared slot go to the worker as they are; any others it
   * reads back. Front bytes outside a slot (every slot was still with the worker) are handed over
   * at once, so that the connection's next read, in a slot again, is at the front.
   */
  wrote(start: number, bytes: Buffer): Promise<void> | undefined {
    if (start === this.handedOver) {
      const kept = this.ring.retain(bytes);
      if (kept !== undefined) {
        this.worker.hashSlot(kept.slot, kept.offset, bytes.length);
        this.handedOver += bytes.length;
        return this.ring.spare();
      }
      this.handOver(this.readyUpTo());
      return undefined;
    }
    this.poke();
    return undefined;
  }

  /** Hands newly finished bytes to the worker. */
  poke(): void {
    const ready = this.readyUpTo();
    if (ready - this.handedOver < POKE_BYTES && this.handedOver > 0) return;
    this.handOver(ready);
  }

  /** The worker is to hash up to `ready`, reading back what it was not given in a slot. */
  private handOver(ready: number): void {
    if (ready <= this.handedOver) return;
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
