/**
 * Socket read buffers in shared memory, so that a worker thread can hash received bytes where
 * the socket put them, while the receiving thread goes on reading and writing. Without it the
 * worker read every byte back from the page cache (a second copy: 0.80-0.88 s of the process's
 * CPU per 500 MB pull against 0.73-0.80 s from slots, on a 2-vCPU AMD EPYC), or the receiving
 * thread would have to copy them into shared memory itself (a bare receive loop measured that
 * at 710 MB/s against 742 MB/s from slots, alternated medians of 7).
 *
 * A slot is lent to one connection for one read at a time. After the read, the consumer either
 * keeps the slot (retain(), when it hands the bytes to the worker, which gives the slot back once
 * it hashed them) or leaves it, and the connection returns it. A consumer that kept the last spare
 * slot pauses its socket until the worker gives one back (spare()): letting reads go on into
 * other memory made them miss the worker, which then had to read them back from the page cache,
 * fell further behind and missed most of the following ones (2-vCPU AMD EPYC, 500 MB: 108 of 530
 * reads hashed from slots). Where every slot is kept all the same (several connections share a
 * ring), a connection reads into a buffer of its own (its fallback), whose bytes are read back
 * from the file: a worker that falls behind costs speed, never correctness.
 */
import { LEAN_READ_BYTES, type ReadBufferSource } from './lean-get.js';

/** Slots per ring: enough for a few reads in flight to the worker per connection. */
export const RING_SLOTS = 8;

type SlotState = 'free' | 'reading' | 'retained';

export class ReadRing {
  /** The memory the worker maps: `slots` slots of `slotBytes` bytes each. */
  readonly shared: SharedArrayBuffer;
  private readonly views: Buffer[] = [];
  private readonly states: SlotState[] = [];
  private readonly freeSlots: number[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly slots = RING_SLOTS,
    readonly slotBytes = LEAN_READ_BYTES,
  ) {
    this.shared = new SharedArrayBuffer(slots * slotBytes);
    for (let slot = slots - 1; slot >= 0; slot--) {
      this.views[slot] = Buffer.from(this.shared, slot * slotBytes, slotBytes);
      this.states[slot] = 'free';
      this.freeSlots.push(slot);
    }
  }

  /** Read buffers for one connection: slots while there are free ones, then a buffer of its own. */
  reader(): ReadBufferSource {
    let fallback: Buffer | undefined;
    return {
      acquire: () => {
        const slot = this.freeSlots.pop();
        if (slot === undefined) return (fallback ??= Buffer.allocUnsafe(this.slotBytes));
        this.states[slot] = 'reading';
        return this.views[slot]!;
      },
      release: (buffer) => {
        const slot = this.slotOf(buffer);
        if (slot !== undefined && this.states[slot] === 'reading') this.makeFree(slot);
      },
    };
  }

  /**
   * Keeps the slot that holds `bytes` (just read, not yet returned by its connection) for the
   * worker; returns its number and where in it `bytes` start, or undefined when `bytes` are not in
   * a slot (a fallback buffer, a copy) and must be read back from the file instead.
   */
  retain(bytes: Uint8Array): { slot: number; offset: number } | undefined {
    const slot = this.slotOf(bytes);
    if (slot === undefined || this.states[slot] !== 'reading') return undefined;
    this.states[slot] = 'retained';
    return { slot, offset: bytes.byteOffset - slot * this.slotBytes };
  }

  /** The worker is done with a retained slot. */
  giveBack(slot: number): void {
    if (this.states[slot] === 'retained') this.makeFree(slot);
  }

  /**
   * Resolves once a slot is free beyond the one a connection is about to be lent: a consumer
   * that keeps slots waits on this (its socket paused) instead of letting the next read miss them.
   */
  spare(): Promise<void> | undefined {
    if (this.freeSlots.length > 1) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The worker is gone: nobody will read the kept slots, so they are free, and nobody waits for them. */
  abandon(): void {
    for (let slot = 0; slot < this.slots; slot++) if (this.states[slot] === 'retained') this.makeFree(slot);
    this.wake();
  }

  /** Slots neither lent nor kept (for tests). */
  get freeCount(): number {
    return this.freeSlots.length;
  }

  private slotOf(bytes: Uint8Array): number | undefined {
    if (bytes.buffer !== this.shared) return undefined;
    return Math.floor(bytes.byteOffset / this.slotBytes);
  }

  private makeFree(slot: number): void {
    this.states[slot] = 'free';
    this.freeSlots.push(slot);
    // A waiter's connection was lent its slot after it began to wait: one free slot is enough now.
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
