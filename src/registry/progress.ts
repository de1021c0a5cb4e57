/** Throttles byte-count progress callbacks to one per interval, plus an unthrottled final call. */

export const PROGRESS_INTERVAL_MS = 100;

export class ProgressThrottle {
  private last = 0;

  constructor(
    private readonly callback: ((bytesDone: number) => void) | undefined,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  report(bytesDone: number): void {
    if (!this.callback) return;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.callback(bytesDone);
  }

  final(bytesDone: number): void {
    this.callback?.(bytesDone);
  }
}
