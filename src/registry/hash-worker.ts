/**
 * A worker thread that sha256-hashes a file front to back as the caller says bytes became
 * final. Hashing 500 MB costs ~0.35 s of CPU, time the main thread would otherwise take from
 * receiving sockets and issuing writes; in a worker it runs on another core. Bytes that reached
 * the file through a shared read slot (read-ring.ts) are hashed from the slot, which the worker
 * then gives back; any others it reads back with its own descriptor from the page cache the
 * writes just went through, which costs CPU of its own.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { HASH_READ_BYTES } from './blob-file.js';

// Plain JavaScript run with `eval`: no loader or build step is needed to start it, from src/ or dist/.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const fd = openSync(workerData.path, 'r');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(workerData.readBytes);
const shared = workerData.shared && Buffer.from(workerData.shared);
let position = 0;
let failed = false;
parentPort.on('message', (message) => {
  if (failed) return;
  try {
    if (message.slot !== undefined) {
      const start = message.slot * workerData.slotBytes + message.offset;
      hash.update(shared.subarray(start, start + message.length));
      position += message.length;
      parentPort.postMessage({ freed: message.slot });
      return;
    }
    if (message.end === undefined) {
      closeSync(fd);
      parentPort.postMessage({ digest: 'sha256:' + hash.digest('hex'), position });
      return;
    }
    while (position < message.end) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, message.end - position), position);
      if (n === 0) throw new Error('file ended at byte ' + position + ' while hashing up to ' + message.end);
      hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      position += n;
    }
  } catch (err) {
    failed = true;
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

interface WorkerReply {
  digest?: string;
  position?: number;
  error?: string;
  /** A shared slot the worker is done with. */
  freed?: number;
}

/** Shared read slots (read-ring.ts) the worker may be asked to hash from. */
export interface SharedSlots {
  shared: SharedArrayBuffer;
  slotBytes: number;
  /** The worker is done with `slot`. */
  onFreed(slot: number): void;
  /** The worker failed or was stopped: it will give no slot back. */
  onStopped(): void;
}

export class FileHashWorker {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private waiting: { resolve: (digest: string) => void; reject: (err: Error) => void } | undefined;
  private requested = 0;

  /** Starts the worker on `path` (which must exist), positioned at byte 0. */
  constructor(
    private readonly path: string,
    private readonly slots?: SharedSlots,
  ) {
    const workerData = { path, readBytes: HASH_READ_BYTES, ...(slots ? { shared: slots.shared, slotBytes: slots.slotBytes } : {}) };
    this.worker = new Worker(SOURCE, { eval: true, workerData, name: 'blob hash' });
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.freed !== undefined) slots?.onFreed(reply.freed);
      else if (reply.error !== undefined) this.fail(new Error(reply.error));
      else if (reply.digest !== undefined) this.waiting?.resolve(reply.digest);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the hash worker exited with code ${code}`)));
  }

  /** Says that bytes [0, end) are final; the worker hashes up to there in the background. */
  advance(end: number): void {
    if (end <= this.requested || this.failure !== undefined) return;
    this.requested = end;
    this.worker.postMessage({ end });
  }

  /**
   * Hashes `length` bytes from `offset` in shared slot `slot` as the file's next bytes, right
   * after everything asked for so far; the slot comes back through `onFreed`.
   */
  hashSlot(slot: number, offset: number, length: number): void {
    if (this.failure !== undefined) return;
    this.requested += length;
    this.worker.postMessage({ slot, offset, length });
  }

  /** The digest of bytes [0, end); call once, after every byte up to `end` is written. */
  digest(end: number): Promise<string> {
    this.advance(end);
    return new Promise<string>((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.wrap(this.failure));
      this.waiting = { resolve, reject: (err) => reject(this.wrap(err)) };
      this.worker.postMessage({});
    });
  }

  /** Stops the worker (whatever it was doing); call on every path once the digest is no longer needed. */
  async dispose(): Promise<void> {
    this.failure ??= new Error('the hash worker was stopped');
    this.slots?.onStopped();
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.slots?.onStopped();
    this.waiting?.reject(err);
  }

  private wrap(err: Error): AppError {
    return new AppError('internal', `cannot hash ${this.path}: ${err.message}`, { cause: err });
  }
}
