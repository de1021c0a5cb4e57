/**
 * Notices a child process whose event loop has stopped: the child posts a heartbeat every
 * interval, and the watchdog fires once it has heard nothing for limitMs. It counts its own
 * ticks instead of reading the clock, so a stall of this (the parent's) event loop, or a
 * suspended machine, adds one tick rather than the whole pause. Armed by the first message:
 * starting Node and importing the engine is not the engine's loop.
 */
export class SilenceWatchdog {
  private silentTicks = 0;
  private armed = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  /**
   * @param limitMs Silence that counts as a hang.
   * @param intervalMs How often the child speaks at least (its heartbeat).
   * @param onSilent Called once, when the limit is reached; the watchdog is stopped by then.
   */
  constructor(
    private readonly limitMs: number,
    private readonly intervalMs: number,
    private readonly onSilent: () => void,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The child said something: its loop runs. */
  heard(): void {
    this.armed = true;
    this.silentTicks = 0;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    if (!this.armed || this.stopped) return;
    this.silentTicks++;
    if (this.silentTicks * this.intervalMs < this.limitMs) return;
    this.stop();
    this.onSilent();
  }
}
