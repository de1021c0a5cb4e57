/**
 * Hashes the finished prefix of a file that is being filled out of order, while the rest
 * still downloads, so that a chunked download does not end with a second full pass over the
 * file. "Finished" includes the written part of the chunk at the front, so with one
 * connection the hash trails the writes by one batch. The reading and hashing happen in a
 * worker thread (FileHashWorker), off the thread that receives the sockets.
 */
import { FileHashWorker } from './hash-worker.js';

/** New final bytes that are worth a message to the worker; finish() hands over the rest. */
const POKE_BYTES = 4 * 1024 * 1024;

export class PrefixHasher {
  private readonly worker: FileHashWorker;
  private handedOver = 0;

  /**
   * @param path the file being filled (it must exist)
   * @param readyUpTo how many leading bytes are final right now (grows as writes land)
   */
  constructor(
    path: string,
    private readonly readyUpTo: () => number,
  ) {
    this.worker = new FileHashWorker(path);
  }

  /** Hands newly finished bytes to the worker; cheap, call it after every write. */
  poke(): void {
    const ready = this.readyUpTo();
    if (ready - this.handedOver < POKE_BYTES && this.handedOver > 0) return;
    this.handedOver = ready;
    this.worker.advance(ready);
  }

  /** Hashes whatever is left up to `size` and returns the digest; every write must have landed. */
  finish(size: number): Promise<string> {
    return this.worker.digest(size);
  }

  /** Stops the worker; call on every path. */
  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}
