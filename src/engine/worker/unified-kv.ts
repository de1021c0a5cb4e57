/**
 * Loads the interposer library (native/llama-context-params, see ../unified-kv-library.ts) into
 * this process before node-llama-cpp's binding, so that the binding's context creation and ggml's
 * buffer allocations go through it. It carries the unified KV cache (when asked for), and always:
 * for ggml's large CPU buffers huge pages and fresh pages that are never cleared by hand (contexts
 * are created several times faster on Linux, and a KV cache holds memory only for the cells used;
 * see cpu-buffers.cc), a persistent thread pool per context (see thread-pools.cc) and a thread that
 * runs every decode of a context (see decode-thread.cc). The library
 * acts process-wide: every Worker of a server is started with the same setting, and the first to
 * load it decides. Loaded with RTLD_GLOBAL: only a global definition is found before libllama's and
 * libggml-base's own when the binding's references are bound.
 */
import os from 'node:os';
import { UNIFIED_KV_LIBRARY } from '../unified-kv-library.js';

interface UnifiedKvLibrary {
  configure(unified: boolean): void;
  interposed(): boolean;
  hugePages(enabled: boolean): void;
  freshBuffers(enabled: boolean): void;
  hugePageBuffers(): number;
  clearsSkipped(): number;
  threadPools(): number;
  decodeThreads(): number;
}

/** The outcome of asking for unified KV caches in this process. */
export interface UnifiedKvState {
  /** Whether contexts created from now on with several sequences get one shared KV cache. */
  enabled: boolean;
  /** Why not, when asked for and not enabled. */
  reason?: string;
}

let library: UnifiedKvLibrary | undefined;
let state: UnifiedKvState | undefined;

/**
 * Idempotent per process: the first call loads and configures the library; later ones get the
 * same answer. Without the library (not built) huge pages are simply not used; its absence is
 * reported only when the unified KV cache was asked for.
 */
export function loadInterposer(unifiedKv: boolean): UnifiedKvState {
  if (state) return state;
  try {
    const module = { exports: {} as UnifiedKvLibrary };
    process.dlopen(module, UNIFIED_KV_LIBRARY, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL);
    library = module.exports;
    library.hugePages(true);
    library.freshBuffers(true);
    library.configure(unifiedKv);
    state = { enabled: unifiedKv };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    state = unifiedKv ? { enabled: false, reason: `each sequence keeps its own KV cache: the unified-KV library did not load (${message}); run make build` } : { enabled: false };
  }
  return state;
}

/** How many of ggml's buffers were given huge pages in this process so far (0 without the library). */
export function hugePageBuffers(): number {
  return library?.hugePageBuffers() ?? 0;
}

/** How many first clears of ggml's buffers found fresh pages and were skipped in this process so far (0 without the library). */
export function clearsSkipped(): number {
  return library?.clearsSkipped() ?? 0;
}

/** How many contexts of this process have a thread pool of their own now (0 without the library). */
export function threadPools(): number {
  return library?.threadPools() ?? 0;
}

/** How many contexts of this process decode on a thread of their own now (0 without the library; see decode-thread.cc). */
export function decodeThreads(): number {
  return library?.decodeThreads() ?? 0;
}

/**
 * Whether a completion context just created with `sequences` sequences went through the library. False
 * when the binding bound libllama's own function (the library was loaded after it in this process).
 */
export function contextWasUnified(sequences: number): boolean {
  return library !== undefined && state?.enabled === true && sequences > 1 && library.interposed();
}
