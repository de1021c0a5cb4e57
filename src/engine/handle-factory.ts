/**
 * The factory the server gives the scheduler: each call creates a handle whose engine runs in a
 * Worker or, with isolation 'process', in a child process.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { HandleFactory } from './handle-types.js';
import { WorkerModelHandle } from './model-handle.js';
import type { PromptCacheSettings, WorkerModelHandleOptions } from './model-handle-options.js';
import type { GpuSetting, Isolation } from './protocol.js';
import type { LoadMemo } from './types.js';
import { watchNativeBuildChoice, type NativeBuildWatchOptions } from './native-build-watch.js';
import { EngineWorkers } from './spare-worker.js';

export interface WorkerHandleFactoryOptions {
  /** The configured backend; 'cpu' means no GPU. Defaults to 'auto'. */
  gpu?: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu';
  logger: Logger;
  /** Longest wait for a Worker to stop cooperatively. Defaults to the handle's DEFAULT_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
  /** Where each model's engine runs: 'thread' (a Worker) or 'process' (a child process). Defaults to 'thread'. */
  isolation?: Isolation;
  /** Process isolation only: event-loop silence after which a child is killed. Defaults to DEFAULT_HANG_TIMEOUT_MS. */
  hangTimeoutMs?: number;
  /**
   * Thread isolation only: keep one engine Worker started ahead of need, from now on, given the
   * thread count of a typical model. Defaults to none.
   */
  spare?: { threads: number };
  /** Whether a model's sequences share one KV cache (see WorkerInit.unifiedKv). Defaults to false. */
  unifiedKv?: boolean;
  /** Where completion models keep prompt prefixes across unloads, and how many bytes at most. Defaults to none: nothing is saved. */
  promptCache?: PromptCacheSettings;
  /** Which decision file to follow and how often (native-build-watch.ts). Defaults to build/native-engine.json every 5 s. */
  nativeBuildWatch?: NativeBuildWatchOptions;
  /** Told how every generation ended, read to the end or left by its client (WorkerModelHandleOptions.onGenerationEnd). Defaults to nobody. */
  onGenerationEnd?: WorkerModelHandleOptions['onGenerationEnd'];
}

export interface EngineHandles {
  createHandle: HandleFactory;
  /** Resolves once the spare Worker's engine is up (at once without a spare); for benchmarks and tests. */
  spareReady(): Promise<void>;
  /** Whether a spare Worker is there now, and whether its engine is up; for tests and diagnostics. */
  spareState(): 'none' | 'starting' | 'up';
  /** Stops the spare Worker, if any; the handles themselves are the scheduler's to dispose. */
  close(): Promise<void>;
}

export function createWorkerHandleFactory(options: WorkerHandleFactoryOptions): EngineHandles {
  const gpu: GpuSetting = options.gpu === 'cpu' ? false : (options.gpu ?? 'auto');
  const keepSpare = options.spare !== undefined && (options.isolation ?? 'thread') === 'thread';
  const workers = new EngineWorkers(keepSpare, options.nativeBuildWatch?.file);
  if (options.spare) workers.prepare({ gpu, threads: options.spare.threads, unifiedKv: options.unifiedKv });
  // Lives as long as the server: a model's second and later loads skip the file check and most of the wrapper search.
  const loadMemos = new Map<string, LoadMemo>();
  const createHandle: HandleFactory = (spec, settings) =>
    new WorkerModelHandle({
      spec,
      settings,
      gpu,
      logger: options.logger.child({ model: spec.name }),
      stopTimeoutMs: options.stopTimeoutMs,
      isolation: options.isolation,
      hangTimeoutMs: options.hangTimeoutMs,
      workers,
      unifiedKv: options.unifiedKv,
      promptCache: options.promptCache,
      loadMemos,
      onGenerationEnd: options.onGenerationEnd,
    });
  // A background build of llama.cpp may be measured faster while the server runs: later loads use it.
  const stopWatching = watchNativeBuildChoice((choice) => {
    if (choice.use === 'local') options.logger.info('llama.cpp binaries: later loads use the local build, measured faster on this CPU', { cmakeOptions: choice.cmakeOptions });
    else options.logger.info('llama.cpp binaries: later loads use the prebuilt binaries', { reason: choice.reason });
    workers.renew();
  }, options.nativeBuildWatch);
  return {
    createHandle,
    spareReady: () => workers.spareReady(),
    spareState: () => workers.spareState,
    close: () => {
      stopWatching();
      return workers.close();
    },
  };
}

/**
 * The bundled llama.cpp release, read from node-llama-cpp's package files without loading it
 * (the main thread never loads the native engine). For status() before any model has loaded.
 */
export function bundledEngineInfo(): { backend: string; version: string } {
  try {
    const url = new URL('../llama/binariesGithubRelease.json', import.meta.resolve('node-llama-cpp'));
    const release = (JSON.parse(readFileSync(url, 'utf8')) as { release?: string }).release;
    return { backend: 'llama.cpp', version: release ?? 'unknown' };
  } catch {
    return { backend: 'llama.cpp', version: 'unknown' };
  }
}
