/**
 * Progress messages of pulls and pushes, in Docker Model Runner's wire shape, and the per-layer
 * throttle that decides when a byte count is worth a message. The shape is what `docker model`
 * parses, so field names and message texts follow Docker's exactly.
 */
import { formatMegabytes } from '../util/units.js';

export type TransferMode = 'pull' | 'push';

export interface LayerProgress {
  /** The layer's digest. */
  id: string;
  /** The layer's size in bytes. */
  size: number;
  /** Bytes of this layer transferred so far (resumed bytes included). */
  current: number;
}

export interface ProgressEvent {
  type: 'progress' | 'success' | 'warning' | 'error';
  message: string;
  /** Sum of the sizes of every layer of the model. */
  total?: number;
  layer?: LayerProgress;
  mode?: TransferMode;
  /** The model ID, on the success line of a load. */
  id?: string;
  /** The stable error code (AppError's), on an error line. */
  code?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Docker reports at most every 100 ms per layer... */
export const PROGRESS_INTERVAL_MS = 100;
/** ...or every MiB, whichever comes first, plus once at completion. */
export const PROGRESS_STEP_BYTES = 1 << 20;

export interface TransferProgressOptions {
  mode: TransferMode;
  /** Sum of the sizes of every layer. */
  total: number;
  emit: ProgressListener;
  /** Minimum time between two messages for one layer. Defaults to PROGRESS_INTERVAL_MS. */
  intervalMs?: number;
  /** Bytes after which a layer reports even inside the interval. Defaults to PROGRESS_STEP_BYTES. */
  stepBytes?: number;
  /** Clock in milliseconds, replaceable so the throttle can be tested without waiting. Defaults to Date.now. */
  now?: () => number;
}

interface LayerState {
  size: number;
  current: number;
  reportedBytes: number;
  reportedAt: number;
  done: boolean;
}

/**
 * Tracks every layer of one transfer and turns byte counts into throttled progress events. The
 * message carries the bytes of all layers together (Docker's deprecated text), the numbers carry
 * the layer's own, which is what clients compute bars from.
 */
export class TransferProgress {
  private readonly layers = new Map<string, LayerState>();
  private readonly intervalMs: number;
  private readonly stepBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: TransferProgressOptions) {
    this.intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.stepBytes = options.stepBytes ?? PROGRESS_STEP_BYTES;
    this.now = options.now ?? Date.now;
  }

  /** Records a layer before its transfer starts, so the running byte total is right from the first message. */
  addLayer(digest: string, size: number): void {
    if (!this.layers.has(digest)) {
      this.layers.set(digest, { size, current: 0, reportedBytes: -1, reportedAt: -Infinity, done: false });
    }
  }

  /** Bytes of all layers transferred so far. */
  get transferred(): number {
    let sum = 0;
    for (const layer of this.layers.values()) sum += layer.current;
    return sum;
  }

  update(digest: string, current: number): void {
    const layer = this.layers.get(digest);
    if (!layer || layer.done) return;
    layer.current = Math.min(current, layer.size);
    const now = this.now();
    const dueByTime = now - layer.reportedAt >= this.intervalMs;
    const dueByBytes = layer.current - layer.reportedBytes >= this.stepBytes;
    if ((dueByTime || dueByBytes) && layer.current !== layer.reportedBytes) this.report(digest, layer, now);
  }

  /** A layer is complete: always reported, once. */
  complete(digest: string): void {
    const layer = this.layers.get(digest);
    if (!layer || layer.done) return;
    layer.current = layer.size;
    layer.done = true;
    this.report(digest, layer, this.now());
  }

  private report(digest: string, layer: LayerState, now: number): void {
    layer.reportedAt = now;
    layer.reportedBytes = layer.current;
    const verb = this.options.mode === 'pull' ? 'Downloaded' : 'Uploaded';
    this.options.emit({
      type: 'progress',
      message: `${verb}: ${formatMegabytes(this.transferred)}`,
      total: this.options.total,
      layer: { id: digest, size: layer.size, current: layer.current },
      mode: this.options.mode,
    });
  }
}

export function successEvent(message: string, mode: TransferMode): ProgressEvent {
  return { type: 'success', message, mode };
}
