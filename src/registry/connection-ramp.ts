/**
 * Measures the first connection of a chunked download: how many bytes per second it moves,
 * from its first request (so a slow answer, a redirect or a far server counts as slowness
 * too) until it has received `probeBytes` or `probeMs` has passed, whichever comes first.
 * What the measurement means is the ChunkPlanner's decision (see chunk-planner.ts).
 */

/** The first connection is judged after this many bytes... */
export const DEFAULT_PROBE_BYTES = 16 * 1024 * 1024;
/** ...or after this long, whichever comes first. */
export const DEFAULT_PROBE_MS = 250;

export interface RampOptions {
  /** Defaults to DEFAULT_PROBE_BYTES (16 MiB). */
  probeBytes?: number;
  /** Defaults to DEFAULT_PROBE_MS (250 ms). */
  probeMs?: number;
}

export class ConnectionRamp {
  private readonly began = performance.now();
  private readonly timer: NodeJS.Timeout;
  private decided = false;
  private bytes = 0;
  private readonly probeBytes: number;

  /** `onMeasured` is called once, with the first connection's bytes per second. */
  constructor(
    private readonly onMeasured: (bytesPerSecond: number) => void,
    options: RampOptions = {},
  ) {
    this.probeBytes = options.probeBytes ?? DEFAULT_PROBE_BYTES;
    this.timer = setTimeout(() => this.decide(), options.probeMs ?? DEFAULT_PROBE_MS);
    // The download's own work keeps the process alive; the probe must not.
    this.timer.unref();
  }

  /** Bytes received so far by this download (only the first connection's until it widens). */
  observe(bytes: number): void {
    this.bytes = bytes;
    if (!this.decided && bytes >= this.probeBytes) this.decide();
  }

  /** Measures now if not yet done (the probe chunk ended before `probeBytes`). */
  finish(): void {
    this.decide();
  }

  /** Stops watching (the download ended or failed). */
  dispose(): void {
    this.decided = true;
    clearTimeout(this.timer);
  }

  private decide(): void {
    if (this.decided) return;
    this.decided = true;
    clearTimeout(this.timer);
    const seconds = Math.max(1e-3, (performance.now() - this.began) / 1000);
    this.onMeasured(this.bytes / seconds);
  }
}
