/**
 * Where the unified-KV library lives (native/llama-context-params, built by `make build` into
 * build/Release/llama_context_params.node). With it, a model's sequences share one KV cache of the
 * per-sequence size, as llama-server's slots do; without it each sequence has a cache of its own.
 * The main side asks only whether the file is there (to estimate a model's memory before it
 * loads); the Worker loads it (worker/unified-kv.ts) and reports what its context really got.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Two levels up from src/engine and dist/engine alike. */
export const UNIFIED_KV_LIBRARY = fileURLToPath(new URL('../../build/Release/llama_context_params.node', import.meta.url));

/** Whether contexts with several sequences can share one KV cache in this installation. */
export function unifiedKvLibraryPresent(): boolean {
  return existsSync(UNIFIED_KV_LIBRARY);
}
