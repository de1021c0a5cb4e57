/**
 * Loads one model inside a Worker: validate the GGUF in JS, getLlama with this model's thread
 * share, loadModel, then either a completion context with a pool of sequences or an embedding
 * context or a ranking context. Everything here runs once per Worker.
 */
import {
  getLlama,
  getLlamaGpuTypes,
  LlamaLogLevel,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaRankingContext,
  type LlamaModel,
} from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { EngineStart, LoadedInfo, WorkerInit } from '../protocol.js';
import { validateGguf } from './validate.js';
import { recordSequenceOrder } from './sequence-order.js';
import { nativeBuildChoiceFor, type NativeBuildChoice } from './native-build.js';
import { describeBinary, loadedCpuVariant } from './binary-info.js';
import { resolveModelChatWrapper, type ResolvedChatWrapper } from './chat-wrapper.js';
import { fileStampOf, sameFile } from '../../util/file-stamp.js';
import { headerWasReadAhead } from './gguf-read-ahead.js';
import { clearsSkipped, contextWasUnified, decodeThreads, hugePageBuffers, loadInterposer, threadPools } from './unified-kv.js';
import { loadFailureReason } from './load-failure.js';
import { resourceSimulationSkipped } from './resource-simulation.js';

/** A loaded model and what generation needs from it. */
export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  init: WorkerInit;
  /** Set in 'completion' mode. */
  context?: LlamaContext;
  sequences: LlamaContextSequence[];
  /** Set in 'embedding' mode. */
  embeddingContext?: LlamaEmbeddingContext;
  /** Set in 'reranking' mode. */
  rankingContext?: LlamaRankingContext;
  /** Resolved once: resolving it per request blocks for ~200 ms (it inspects the Jinja template). */
  chatWrapper: ChatWrapper;
  vocabularySize: number;
  info: LoadedInfo;
}

export type LogSink = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

/** node-llama-cpp's Llama with the binaries make build chose; what loadModel needs besides the file. */
export interface StartedEngine {
  llama: Llama;
  nativeBuild: NativeBuildChoice;
  /** The latest error lines llama.cpp logged, oldest first (at most RECENT_ERROR_LINES). */
  recentErrors: string[];
}

/** Error lines kept for explaining a failed load: llama.cpp logs the reason, then a generic line or two. */
const RECENT_ERROR_LINES = 8;
/** Event-loop turns a failed load waits for llama.cpp's error lines to arrive. */
const LOG_SETTLE_TURNS = 10;

export async function startEngine({ gpu, threads, unifiedKv = false }: EngineStart, log: LogSink): Promise<StartedEngine> {
  // Before the binding loads: its context creation must find the library's definition first.
  const kv = loadInterposer(unifiedKv);
  if (kv.reason) log('warn', kv.reason);
  // make build's measured choice; a local build is found only under the cmake options it was built with.
  const nativeBuild = await nativeBuildChoiceFor(gpu, () => getLlamaGpuTypes('supported'));
  const recentErrors: string[] = [];
  const llama = await getLlama({
    gpu,
    // Each Worker's Llama has its own thread splitter; the scheduler keeps the sum within the budget.
    maxThreads: threads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const error = level === LlamaLogLevel.error || level === LlamaLogLevel.fatal;
      if (error) {
        recentErrors.push(message.trim());
        if (recentErrors.length > RECENT_ERROR_LINES) recentErrors.shift();
      }
      log(error ? 'error' : 'warn', message.trimEnd());
    },
    // Never download or compile at run time: use the prebuilt or an existing local build.
    build: 'never',
    ...(nativeBuild.use === 'local' ? { cmakeOptions: nativeBuild.cmakeOptions } : {}),
  });
  return { llama, nativeBuild, recentErrors };
}


/**
 * Validates the file, then loads it with `engine` (started here when not given; either way the
 * loaded model owns it and disposeModel releases it). A load that fails releases the engine too,
 * unless `keepEngine` lends it only (a spare's rehearsal: the spare's real model loads with it next).
 */
export async function loadModel(init: WorkerInit, log: LogSink, signal: AbortSignal, engine?: StartedEngine, { keepEngine = false } = {}): Promise<LoadedModel> {
  const began = performance.now();
  // The same file, unchanged since an earlier load of this model passed the check, is not read again.
  const stamp = await fileStampOf(init.modelPath);
  const known = sameFile(init.memo?.validatedFile, stamp);
  if (!known) await validateGguf(init.modelPath);
  const validated = performance.now();
  const { llama, nativeBuild, recentErrors } = engine ?? (await startEngine(init, log));
  const engineUp = performance.now();
  let model: LlamaModel | undefined;
  try {
    recentErrors.length = 0;
    try {
      model = await llama.loadModel({ modelPath: init.modelPath, loadSignal: signal, ignoreMemorySafetyChecks: memoryIsOurs(llama) });
    } catch (err) {
      // llama.cpp's log lines reach JavaScript through their own queue, after the rejection may have.
      for (let turn = 0; turn < LOG_SETTLE_TURNS && loadFailureReason(recentErrors) === undefined; turn++) await new Promise((resolve) => setImmediate(resolve));
      const reason = signal.aborted ? undefined : loadFailureReason(recentErrors);
      // A file llama.cpp refuses, with the reason it logged, is the model's fault, not the server's.
      if (reason !== undefined) throw new AppError('unsupported', `llama.cpp cannot load model ${init.modelPath}: ${reason}`, { cause: err });
      throw err;
    }
    const modelLoaded = performance.now();
    const vocabularySize = vocabularySizeOf(model);
    // Contexts are created for the most threads this model may be given (their thread pools hold
    // that many); node-llama-cpp caps a context's threads by Llama.maxThreads when it is created,
    // and at each batch uses what Llama.maxThreads allows then: the model's share now.
    const poolThreads = poolThreadsOf(init);
    llama.maxThreads = poolThreads;
    const sequences: LlamaContextSequence[] = [];
    const creating = createContexts(model, init, poolThreads, signal);
    // The context is built on the thread pool, the chat wrapper is found in JavaScript (tens of ms
    // of template renders even with a hint): once createContext has handed its native part over
    // (its JavaScript before that settles within a turn of the event loop), both run at once.
    await new Promise((resolve) => setImmediate(resolve));
    let resolvedWrapper: ResolvedChatWrapper;
    try {
      resolvedWrapper = resolveModelChatWrapper(model, init.memo?.chatWrapperType);
    } catch (err) {
      await creating.then(disposeContexts, () => undefined);
      throw err;
    }
    const { context, embeddingContext, rankingContext } = await creating;
    if (context) {
      for (let i = 0; i < init.parallel; i++) sequences.push(context.getSequence());
      recordSequenceOrder(sequences);
    }
    llama.maxThreads = init.threads;
    const contextCreated = performance.now();
    const { wrapper: chatWrapper, type: chatWrapperType, resolvedBy: chatWrapperResolvedBy } = resolvedWrapper;
    // After loadModel, so that ggml has mapped its CPU backend library.
    const binary = describeBinary(nativeBuild, llama.buildType, loadedCpuVariant(llama.buildType));
    if (binary.fallbackReason) log('warn', binary.fallbackReason);
    const contextMemory = context?.memoryUsage ?? { ram: 0, vram: 0 };
    const contextSize = sequences[0]?.contextSize ?? init.contextSize;
    const kvUnified = context !== undefined && contextWasUnified(init.parallel);
    const info: LoadedInfo = {
      contextSize,
      parallel: init.parallel,
      threads: init.threads,
      maxThreads: poolThreads,
      threadPools: threadPools(),
      decodeThreads: decodeThreads(),
      kvUnified,
      kvCells: kvUnified ? contextSize : contextSize * init.parallel,
      hugePageBuffers: hugePageBuffers(),
      clearsSkipped: clearsSkipped(),
      loadMillis: {
        validate: Math.round(validated - began),
        engine: Math.round(engineUp - validated),
        model: Math.round(modelLoaded - engineUp),
        context: Math.round(contextCreated - modelLoaded),
        total: Math.round(performance.now() - began),
      },
      memoryBytes: model.memoryUsage.ram + model.memoryUsage.vram + contextMemory.ram + contextMemory.vram,
      backend: `llama.cpp (${llama.gpu === false ? 'cpu' : llama.gpu}, ${binary.build}${binary.cpuVariant ? ` ${binary.cpuVariant}` : ''})`,
      build: binary.build,
      ...(binary.cpuVariant ? { cpuVariant: binary.cpuVariant } : {}),
      version: llama.llamaCppRelease.release,
      trainContextSize: model.trainContextSize,
      embeddingSize: model.embeddingVectorSize,
      vocabularySize,
      chatWrapper: chatWrapper.wrapperName,
      chatWrapperResolvedBy,
      validation: known ? 'known' : 'checked',
      headerReadAhead: headerWasReadAhead(),
      memo: { validatedFile: stamp, ...(chatWrapperType !== undefined ? { chatWrapperType } : {}) },
    };
    return { llama, model, init, context, sequences, embeddingContext, rankingContext, chatWrapper, vocabularySize, info };
  } catch (err) {
    await model?.dispose().catch(() => undefined);
    if (!keepEngine) await llama.dispose().catch(() => undefined);
    if (err instanceof AppError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError('internal', `failed to load model ${init.modelPath}: ${message}`, { cause: err });
  }
}

interface CreatedContexts {
  context?: LlamaContext;
  embeddingContext?: LlamaEmbeddingContext;
  rankingContext?: LlamaRankingContext;
}

/** The one context the model's mode needs. */
async function createContexts(model: LlamaModel, init: WorkerInit, poolThreads: number, signal: AbortSignal): Promise<CreatedContexts> {
  const ignoreMemorySafetyChecks = memoryIsOurs(model.llama);
  if (init.mode === 'embedding') {
    return { embeddingContext: await model.createEmbeddingContext({ contextSize: init.contextSize, threads: poolThreads, batchSize: init.batchSize ?? init.contextSize, ignoreMemorySafetyChecks }) };
  }
  if (init.mode === 'reranking') {
    // node-llama-cpp refuses a model without a classification head (cls.weight / cls.output.weight).
    if (!model.fileInsights.supportsRanking) throw new AppError('bad_request', 'this model is not a reranker: it has no classification head to score documents with');
    return { rankingContext: await model.createRankingContext({ contextSize: init.contextSize, threads: poolThreads, batchSize: init.batchSize ?? init.contextSize, ignoreMemorySafetyChecks }) };
  }
  return {
    context: await model.createContext({
      // Per sequence: node-llama-cpp asks for contextSize x sequences cells, which the unified-KV
      // library (when loaded) turns into one cache of contextSize cells that every sequence may fill.
      contextSize: init.contextSize,
      sequences: init.parallel,
      threads: poolThreads,
      batchSize: init.batchSize,
      flashAttention: init.flashAttention,
      createSignal: signal,
      ignoreMemorySafetyChecks,
    }),
  };
}

/** Disposes whichever context there is; a failure does not stop the others. */
async function disposeContexts({ context, embeddingContext, rankingContext }: CreatedContexts): Promise<void> {
  await Promise.allSettled([context?.dispose(), embeddingContext?.dispose(), rankingContext?.dispose()]);
}

/**
 * Whether node-llama-cpp's memory checks are left out: on a CPU-only engine where it no longer
 * simulates the load (resource-simulation.ts) and the scheduler has placed the model on its own estimate.
 */
function memoryIsOurs(llama: Llama): boolean {
  return llama.gpu === false && resourceSimulationSkipped();
}

/** The most threads a model's context is created for (and its thread pool holds): never fewer than it starts with. */
export function poolThreadsOf(init: Pick<WorkerInit, 'threads' | 'maxThreads'>): number {
  return Math.max(init.threads, init.maxThreads ?? init.threads);
}

/**
 * Disposes in dependency order; each step is attempted even when an earlier one fails.
 * `keepEngine` leaves the llama.cpp engine up for another model (a spare's rehearsal).
 */
export async function disposeModel(loaded: LoadedModel, { keepEngine = false } = {}): Promise<void> {
  await disposeContexts(loaded);
  for (const step of [() => loaded.model.dispose(), () => (keepEngine ? undefined : loaded.llama.dispose())]) {
    await Promise.resolve()
      .then(step)
      .catch(() => undefined);
  }
}

/** n_vocab as llama.cpp counts it (the token list), which bounds every id we may detokenize. */
function vocabularySizeOf(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as unknown as { tokenizer?: { ggml?: { tokens?: unknown[] } } }).tokenizer?.ggml?.tokens;
  if (Array.isArray(tokens) && tokens.length > 0) return tokens.length;
  throw new AppError('unsupported', `model ${model.filename ?? ''} has no tokenizer.ggml.tokens list`);
}
