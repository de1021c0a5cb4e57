/**
 * Notices a registry that keeps a response open without moving it. A socket idle timeout ends a
 * response that sends nothing at all, but a server that trickles a byte now and then resets that
 * timer forever; so a body must also move at least `minBytes` in every `timeoutMs` window. A
 * stalled response is destroyed with a retryable error (a new connection may well do better),
 * and the retry policy bounds how often that is tried.
 */
/** How long a registry may leave a response without a byte (or without enough bytes). */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** Bytes a body must move per window: 16 KiB in 30 s is about 0.5 kB/s, far below any real link. */
export const STALL_MIN_BYTES = 16 * 1024;

export interface StallPolicy {
  /** Window, in milliseconds. Defaults to DEFAULT_STALL_TIMEOUT_MS (30 s). */
  timeoutMs: number;
  /** Bytes the body must move in each window. Defaults to STALL_MIN_BYTES (16 KiB). */
  minBytes?: number;
}

export const DEFAULT_STALL_POLICY: StallPolicy = { timeoutMs: DEFAULT_STALL_TIMEOUT_MS, minBytes: STALL_MIN_BYTES };

/** Says what stalled; `where` names the registry and what was being read. */
export function stallMessage(where: string, policy: StallPolicy, received: number): string {
  const seconds = policy.timeoutMs / 1000;
  return `${where} stalled: it sent ${received} bytes in the last ${seconds} s, less than the ${policy.minBytes ?? STALL_MIN_BYTES} required (registry stall timeout ${seconds} s)`;
}

/** Watches one body: call progress() as bytes arrive, hold() around our own slow writes, dispose() at the end. */
export class StallGuard {
  private readonly timer: NodeJS.Timeout;
  private bytes = 0;
  /** Our own waits (a disk write behind) in progress: the registry is not to blame for those windows. */
  private held = 0;
  private heldDuringWindow = false;

  constructor(
    private readonly policy: StallPolicy,
    onStall: (received: number) => void,
  ) {
    const minBytes = policy.minBytes ?? STALL_MIN_BYTES;
    this.timer = setInterval(() => {
      const received = this.bytes;
      const excused = this.held > 0 || this.heldDuringWindow;
      this.bytes = 0;
      this.heldDuringWindow = false;
      if (!excused && received < minBytes) {
        this.dispose();
        onStall(received);
      }
    }, policy.timeoutMs);
    // The download itself keeps the process alive; the watch must not.
    this.timer.unref();
  }

  progress(bytes: number): void {
    this.bytes += bytes;
  }

  /** Excuses the windows `wait` spans (our side is slow, not the registry). */
  hold<T>(wait: Promise<T>): Promise<T> {
    this.held++;
    this.heldDuringWindow = true;
    const done = (): void => {
      this.held--;
    };
    wait.then(done, done);
    return wait;
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
