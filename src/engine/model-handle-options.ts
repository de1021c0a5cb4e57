/**
 * What a model handle (model-handle.ts) is created with, and what it reports once loaded.
 */
import type { Logger } from '../log.js';
import type { HandleInfo, ResolvedSettings } from './handle-types.js';
import type { GpuSetting, Isolation, LoadedInfo, PromptCacheInit } from './protocol.js';
import type { EngineWorkers } from './spare-worker.js';
import type { FinishReason, LoadMemo, LoadSpec } from './types.js';

/** How long dispose() waits for the engine to end by itself before giving up on it (a Worker) or killing it (a process). */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

export interface WorkerModelHandleOptions {
  spec: LoadSpec;
  settings: ResolvedSettings;
  /** Backend for node-llama-cpp; false is CPU only. Defaults to 'auto'. */
  gpu?: GpuSetting;
  /** Receives the engine's log lines and lifecycle events. */
  logger: Logger;
  /** Longest wait for a cooperative stop. Defaults to DEFAULT_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
  /** Where the engine runs: a Worker of this process, or a child process. Defaults to 'thread'. */
  isolation?: Isolation;
  /** Process isolation only: silence of the child's event loop after which it is killed. Defaults to DEFAULT_HANG_TIMEOUT_MS. */
  hangTimeoutMs?: number;
  /** Thread isolation: where the Worker comes from (a factory's spare). Defaults to a new Worker. */
  workers?: EngineWorkers;
  /** Whether the model's sequences share one KV cache (WorkerInit.unifiedKv). Defaults to false. */
  unifiedKv?: boolean;
  /** Where completion models keep prompt prefixes across unloads, and how many bytes at most. Defaults to none: nothing is saved. */
  promptCache?: PromptCacheSettings;
  /**
   * What earlier loads learned, by model ID: read for this load, replaced with what it learned
   * (WorkerInit.memo). Shared by a factory's handles. Defaults to none kept.
   */
  loadMemos?: Map<string, LoadMemo>;
  /**
   * Told how every generation of this model ended, whether its consumer read to the end or left
   * early (a client that went away: the engine's loop ends with 'abort'). Defaults to nobody.
   */
  onGenerationEnd?: (spec: LoadSpec, reason: FinishReason) => void;
}

/** The prompt cache as the server configures it; each model's engine adds its own ID. */
export type PromptCacheSettings = Omit<PromptCacheInit, 'modelId'>;

/** What a loaded handle reports: the engine's info and how it is isolated. */
export type LoadedHandleInfo = HandleInfo & LoadedInfo & { isolation: Isolation };
