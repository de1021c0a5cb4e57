/**
 * Decides how many connections a chunked download needs. It starts with one and watches it:
 * a connection that alone moves at least `enoughBytesPerSecond` (a nearby registry, a fast
 * link) is left alone, because further connections then only add CPU work (more reads, more
 * writes, chunks read back for hashing) on the same busy machine; a slower one (a CDN that
 * caps each connection, a long round trip) gets the other connections at once.
 */

/** A connection at least this fast is not helped by company. */
export const DEFAULT_ENOUGH_BYTES_PER_SECOND = 100 * 1000 * 1000;
/** The first connection is judged after this many bytes... */
export const DEFAULT_PROBE_BYTES = 16 * 1024 * 1024;
/** ...or after this long, whichever comes first. */
export const DEFAULT_PROBE_MS = 250;

export interface RampOptions {
  /** Defaults to DEFAULT_ENOUGH_BYTES_PER_SECOND (100 MB/s). */
  enoughBytesPerSecond?: number;
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
  private readonly enough: number;
  private readonly probeBytes: number;

  /** `widen` is called at most once, when the first connection turns out slow. */
  constructor(
    private readonly widen: () => void,
    options: RampOptions = {},
  ) {
    this.enough = options.enoughBytesPerSecond ?? DEFAULT_ENOUGH_BYTES_PER_SECOND;
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

  /** Stops watching (the download ended or failed). */
  dispose(): void {
    this.decided = true;
    clearTimeout(this.timer);
  }

  private decide(): void {
    if (this.decided) return;
    this.decided = true;
    clearTimeout(this.timer);
    // Measured from the first request, so a slow answer (redirect, far server) counts as slowness too.
    const seconds = Math.max(1e-3, (performance.now() - this.began) / 1000);
    if (this.bytes / seconds < this.enough) this.widen();
  }
}
