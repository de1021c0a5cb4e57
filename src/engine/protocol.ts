/**
 * Messages between the main thread and a model Worker. Plain data only: Error classes do not
 * survive postMessage, so failures cross as SerializedError ({code, message, data}) and become
 * AppErrors again on the receiving side.
 */
import type { SerializedError } from '../errors.js';
import type { EmbedRequest, EmbedResult, GenerateEvent, GenerateRequest, LoadMemo, ModelMode, RankRequest, RankResult, TokensRequest, TokensResult } from './types.js';

/** Backends a Worker may ask node-llama-cpp for; false means CPU only. */
export type GpuSetting = 'auto' | 'cuda' | 'vulkan' | 'metal' | false;

/** Passed as `workerData`: everything the Worker needs to load its model before any message. */
export interface WorkerInit {
  modelPath: string;
  mode: ModelMode;
  /** Context size per sequence, in tokens. */
  contextSize: number;
  /** Sequences in the context (requests served at once). */
  parallel: number;
  /** CPU threads this model may use now; the Worker's Llama.maxThreads, changed later by 'threads' messages. */
  threads: number;
  /**
   * The most threads this model may be given while loaded: its context is created for (and its
   * thread pool holds) this many. Defaults to `threads`.
   */
  maxThreads?: number;
  /** Tokens per decode batch. Defaults to node-llama-cpp's choice when unset. */
  batchSize?: number;
  /** Flash attention; unset lets node-llama-cpp decide. */
  flashAttention?: boolean;
  gpu: GpuSetting;
  /**
   * Whether a context with several sequences gives them one shared KV cache of `contextSize`
   * cells (llama-server's way) instead of one cache each. Acts process-wide (see
   * worker/unified-kv.ts). Defaults to false.
   */
  unifiedKv?: boolean;
  /** Where and how much of this model's prompt prefixes to keep across unloads (worker/saved-prefixes.ts). Defaults to none: nothing saved. */
  promptCache?: PromptCacheInit;
  /** What an earlier load of this model learned (LoadedInfo.memo). Defaults to none: every step in full. */
  memo?: LoadMemo;
}

/** The prompt cache a model's engine may use. */
export interface PromptCacheInit {
  /** The cache directory shared by all models; each model keeps its files in a directory of its own below it. */
  dir: string;
  /** Bound on the whole directory's size; least recently used files go first. 0 turns the cache off. */
  maxBytes: number;
  /** The model's ID (sha256:...), part of every key. */
  modelId: string;
}

/** What an engine needs before its model is known: the backend, its first thread budget, the KV layout. */
export type EngineStart = Pick<WorkerInit, 'gpu' | 'threads' | 'unifiedKv'>;

/** What a loaded Worker reports about itself. */
export interface LoadedInfo {
  contextSize: number;
  parallel: number;
  threads: number;
  /** The most threads the model may be given while loaded (WorkerInit.maxThreads). */
  maxThreads?: number;
  /** Contexts in this engine's process with a persistent thread pool of their own (native/llama-context-params/thread-pools.cc); 0 without the interposer library. */
  threadPools?: number;
  /** Contexts in this engine's process whose decodes run on a thread of their own (native/llama-context-params/decode-thread.cc); 0 without the interposer library. */
  decodeThreads?: number;
  /** Whether the sequences share one KV cache (then any one of them may fill the whole context). */
  kvUnified?: boolean;
  /** KV cache cells allocated: contextSize when shared, contextSize x parallel when not. */
  kvCells?: number;
  /** ggml buffers this engine's process gave transparent huge pages so far (worker/unified-kv.ts); 0 without the interposer library. */
  hugePageBuffers?: number;
  /** First clears of ggml buffers skipped because the pages were fresh (worker/cpu-buffers.cc), in this engine's process so far. */
  clearsSkipped?: number;
  /**
   * Where the load's time went, in milliseconds: checking the file, starting the engine (0 when a
   * spare Worker had it up), llama.cpp's model load, the context, and all of it to the end.
   */
  loadMillis?: { validate: number; engine: number; model: number; context: number; total: number };
  /** Model plus context memory as node-llama-cpp accounts it (RAM and VRAM together). */
  memoryBytes: number;
  backend: string;
  /** Which llama.cpp binaries loaded: compiled here by make build, or node-llama-cpp's prebuilt ones. */
  build?: 'localBuild' | 'prebuilt';
  /** The ggml CPU variant in use ('sapphirerapids', 'native', ...), when the platform tells. */
  cpuVariant?: string;
  version: string;
  trainContextSize: number;
  /** Width of the embedding vectors (the model's hidden size). */
  embeddingSize: number;
  vocabularySize: number;
  chatWrapper: string;
  /** 'hint' when the memo's wrapper type held and only that type was tested, 'search' otherwise. */
  chatWrapperResolvedBy?: 'hint' | 'search';
  /** 'checked' when the file was read and checked before llama.cpp saw it, 'known' when the memo showed it unchanged since it passed. */
  validation?: 'checked' | 'known';
  /** What this load learned, for the main side to pass to the next load of the same model. */
  memo?: LoadMemo;
  /** Whether the engine had started before the model was named (a spare Worker): the load paid only for the model. */
  engineStartedAhead?: boolean;
  /** Whether the model file's GGUF header had been read ahead while the Worker waited (worker/gguf-read-ahead.ts). */
  headerReadAhead?: boolean;
}

export type MainToWorker =
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'embed'; id: number; request: EmbedRequest }
  | { type: 'rank'; id: number; request: RankRequest }
  | { type: 'tokenize'; id: number; text: string }
  | { type: 'tokens'; id: number; request: TokensRequest }
  | { type: 'cancel'; id: number }
  /** The model's share of the cores changed (other models loaded or unloaded): use this many threads from the next batch on, at most WorkerInit.maxThreads. */
  | { type: 'threads'; threads: number }
  | { type: 'shutdown' };

export type WorkerToMain =
  /** A Worker's engine has started (before or after its model was named). */
  | { type: 'engine-ready' }
  | { type: 'ready'; info: LoadedInfo }
  | { type: 'load-error'; error: SerializedError }
  | { type: 'event'; id: number; event: GenerateEvent }
  | { type: 'result'; id: number; value: EmbedResult | RankResult | number[] | TokensResult }
  | { type: 'error'; id: number; error: SerializedError }
  /** The Worker hit an uncaught failure; it aborts its work and shuts itself down. */
  | { type: 'fatal'; error: SerializedError }
  /**
   * The engine asks to be replaced (a chat template overran its budget, so its heap may hold
   * what the render built): it finishes in-flight work, refuses new work, and waits for shutdown.
   */
  | { type: 'retire'; reason: string }
  | { type: 'log'; level: 'error' | 'warn' | 'info' | 'debug'; message: string };

/** How a model's engine is isolated: a Worker in the server's process, or a child process of its own. */
export type Isolation = 'thread' | 'process';

/**
 * The main side sends the WorkerInit first, as a message: a Worker is started before its model is
 * known (its workerData is an EngineStart), and a process has no workerData. Over a child
 * process's IPC channel the child also posts a heartbeat every HEARTBEAT_INTERVAL_MS from its
 * event loop, so a blocked loop shows as silence.
 */
export type ParentToChild = { type: 'init'; init: WorkerInit } | SpareMessage | MainToWorker;

/** To a Worker still waiting for its model: read this model file's GGUF header now, it is likely next. */
export type SpareMessage = { type: 'read-ahead'; modelPath: string };
export type ChildToParent = WorkerToMain | { type: 'heartbeat' };
export const HEARTBEAT_INTERVAL_MS = 1_000;
