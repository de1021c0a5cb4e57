/**
 * Loads the unified-KV library (see ../unified-kv-library.ts) into this process before
 * node-llama-cpp's binding, so that the binding's context creation goes through it. The library
 * acts process-wide: every Worker of a server is started with the same setting, and the first to
 * load it decides. Loaded with RTLD_GLOBAL: only a global definition is found before libllama's
 * own when the binding's reference to llama_init_from_model is bound.
 */
import os from 'node:os';
import { UNIFIED_KV_LIBRARY } from '../unified-kv-library.js';

interface UnifiedKvLibrary {
  configure(unified: boolean): void;
  interposed(): boolean;
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

/** Idempotent per process: the first call loads and configures the library; later ones get the same answer. */
export function enableUnifiedKv(wanted: boolean): UnifiedKvState {
  if (state) return state;
  if (!wanted) return (state = { enabled: false });
  try {
    const module = { exports: {} as UnifiedKvLibrary };
    process.dlopen(module, UNIFIED_KV_LIBRARY, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL);
    library = module.exports;
    library.configure(true);
    state = { enabled: true };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    state = { enabled: false, reason: `each sequence keeps its own KV cache: the unified-KV library did not load (${message}); run make build` };
  }
  return state;
}

/**
 * Whether a completion context just created with `sequences` sequences went through the library. False
 * when the binding bound libllama's own function (the library was loaded after it in this process).
 */
export function contextWasUnified(sequences: number): boolean {
  return library !== undefined && state?.enabled === true && sequences > 1 && library.interposed();
}
