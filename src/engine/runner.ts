/**
 * One model load as the scheduler tracks it, and the settings it was loaded with.
 */
import type { HandleInfo, ModelHandle, ResolvedSettings } from './handle-types.js';
import type { RunnerStatus } from './scheduler-types.js';
import type { LoadSpec } from './types.js';

export interface Runner {
  /** Model id and mode: the same model loads separately for completion and for embeddings. */
  key: string;
  spec: LoadSpec;
  handle: ModelHandle;
  settings: ResolvedSettings;
  /** Threads it uses now: settings.threads, or more while the budget has room (thread-shares.ts). */
  threadsNow: number;
  /** The estimate until loaded, then what the loaded model reports. */
  memoryBytes: number;
  state: 'loading' | 'ready';
  /** Set when the handle failed or was unloaded: outstanding leases no longer count. */
  gone: boolean;
  /** Set when its engine asked to be replaced: out of the table, disposed once its leases are released. */
  retiring?: boolean;
  refCount: number;
  /** Milliseconds; 0 unloads when idle, negative never. Set by the latest request. */
  keepAliveMs: number;
  keepAliveText: string;
  expiresAt: number | null;
  lastUsed: number;
  timer?: unknown;
  info?: HandleInfo;
}

/** One runner as ps() reports it. */
export function runnerStatus(r: Runner): RunnerStatus {
  return {
    id: r.spec.id,
    name: r.spec.name,
    mode: r.spec.mode,
    contextSize: r.settings.contextSize,
    parallel: r.settings.parallel,
    threads: r.threadsNow,
    memoryBytes: r.memoryBytes,
    inUse: r.refCount,
    loading: r.state === 'loading',
    keepAlive: r.keepAliveText,
    expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
    lastUsed: new Date(r.lastUsed).toISOString(),
  };
}

/** Whether `selector` names the runner's model: its ID, its name, or 12 or more leading hex digits of its ID. */
export function runnerMatches(r: Runner, selector: string): boolean {
  if (selector === r.spec.id || selector === r.spec.name) return true;
  const hex = r.spec.id.replace(/^sha256:/, '');
  return selector.length >= 12 && hex.startsWith(selector.replace(/^sha256:/, ''));
}

export function runnerKey(spec: LoadSpec): string {
  return `${spec.id}|${spec.mode}`;
}

/** Default context size per sequence: the packaged or trained size, capped so a default load stays small. */
export const DEFAULT_CONTEXT_CAP = 4096;
/**
 * The cap when sequences share one KV cache: that one cache of 8192 cells costs what llama-server
 * allocates at its defaults for a model trained on 8192 or more, and half of 4 caches of 4096.
 */
export const DEFAULT_UNIFIED_CONTEXT_CAP = 8192;

export interface SettingsDefaults {
  defaultContextSize?: number;
  /** Whether sequences share one KV cache (raises the default cap). Defaults to false. */
  kvUnified?: boolean;
  defaultParallel: number;
  threadBudget: number;
  maxLoadedModels: number;
}

/**
 * Thread policy: a model gets settings.threads, fixed; else it is guaranteed an equal share of the
 * budget among the most models that may be loaded (floor(threadBudget / maxLoadedModels), at
 * least 1) and may be given up to the whole budget while the others leave room (thread-shares.ts).
 * So models loaded with default threads always fit together, and the placement check (sum of
 * guaranteed threads <= budget) only has to act on explicit settings.
 */
export function resolveSettings(spec: LoadSpec, defaults: SettingsDefaults): ResolvedSettings {
  const cap = defaults.kvUnified ? DEFAULT_UNIFIED_CONTEXT_CAP : DEFAULT_CONTEXT_CAP;
  const contextSize = spec.settings.contextSize ?? defaults.defaultContextSize ?? Math.min(spec.packagedContextSize ?? spec.trainContextSize ?? cap, cap);
  const parallel = Math.max(1, spec.settings.parallel ?? defaults.defaultParallel);
  const share = Math.max(1, Math.floor(defaults.threadBudget / defaults.maxLoadedModels));
  const threads = Math.max(1, Math.min(defaults.threadBudget, spec.settings.threads ?? share));
  const maxThreads = spec.settings.threads === undefined ? Math.max(threads, defaults.threadBudget) : threads;
  return { contextSize, parallel, threads, maxThreads };
}
