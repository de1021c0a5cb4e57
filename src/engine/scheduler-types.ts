/**
 * The scheduler's options and results. Every dependency is injectable so the scheduler runs
 * in unit tests with fake handles, a fake clock and a fake memory probe.
 */
import type { Logger } from '../log.js';
import type { Clock } from './clock.js';
import type { HandleFactory } from './handle-types.js';
import type { LoadSpec, ModelMode, ModelSession } from './types.js';

export interface SchedulerOptions {
  /** Creates the handle of one model load. */
  createHandle: HandleFactory;
  /** Time source for keep-alive. Defaults to the system clock. */
  clock?: Clock;
  /** Free memory now, used when memoryBudgetBytes is unset. Defaults to os.freemem(). */
  memoryProbe?: () => { freeBytes: number };
  /** Memory a model will need before it is loaded. Defaults to estimateModelBytes (file + KV + overhead). */
  estimateBytes?: (spec: LoadSpec, contextSize: number, kvCaches: number) => Promise<number>;
  /** Most models loaded at once. */
  maxLoadedModels: number;
  /** Memory all loaded models may use together. Defaults to free memory at load time when unset. */
  memoryBudgetBytes?: number;
  /** Keep-alive when neither the request nor the model's settings name one (Go duration or seconds). */
  defaultKeepAlive: string;
  /** Parallel sequences when the model's settings name none. */
  defaultParallel: number;
  /**
   * Context size per sequence when the model's settings name none. Defaults to the model's packaged
   * size capped at 4096, or at 8192 when `kvUnified` (one cache of that size then costs what llama-server's default does).
   */
  defaultContextSize?: number;
  /** Whether a model's sequences share one KV cache: the memory estimate counts one cache, not one per sequence. Defaults to false. */
  kvUnified?: boolean;
  /** Requests that may wait per model; one more is refused with 'busy'. */
  maxQueue: number;
  /** CPU threads all loaded models share. */
  threadBudget: number;
  logger: Logger;
  /** Backend and version shown by status() before any model has loaded. Defaults to {backend: 'llama.cpp', version: 'unknown'}. */
  engineInfo?: { backend: string; version: string };
}

export interface AcquireOptions {
  /** Ends the wait for a slot or a load. Defaults to none. */
  signal?: AbortSignal;
  /** Keep-alive for this request (Go duration or seconds; 0 unloads after it, negative never). Defaults to the model's setting, then defaultKeepAlive. */
  keepAlive?: string | number;
}

/** A slot on a loaded model; call release() exactly once when the request ends, whatever happens. */
export interface Lease {
  session: ModelSession;
  release(): void;
  /** The settings the model was actually loaded with. */
  settings: { contextSize: number; parallel: number };
}

/** One loaded (or loading) model, as ps() reports it. */
export interface RunnerStatus {
  /** Model ID (sha256:...). */
  id: string;
  /** The reference it was loaded by. */
  name: string;
  mode: ModelMode;
  contextSize: number;
  parallel: number;
  threads: number;
  memoryBytes: number;
  /** Requests holding a slot now. */
  inUse: number;
  loading: boolean;
  /** Keep-alive in effect, as given (e.g. "5m", "-1"). */
  keepAlive: string;
  /** When the idle model unloads (ISO 8601), or null when busy or kept forever. */
  expiresAt: string | null;
  /** ISO 8601 time of the last release (or of the load). */
  lastUsed: string;
}
