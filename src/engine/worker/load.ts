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
} from 'node-llama-cpp';
import { AppError } from '../../errors.js';
import type { EngineStart, LoadedInfo, WorkerInit } from '../protocol.js';
import { validateGguf } from './validate.js';
import { recordSequenceOrder } from './sequence-order.js';
import { nativeBuildChoiceFor, type NativeBuildChoice } from './native-build.js';
import { describeBinary, loadedCpuVariant } from './binary-info.js';
import { resolveModelChatWrapper } from './chat-wrapper.js';
import { contextWasUnified, enableUnifiedKv } from './unified-kv.js';

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
}

export async function startEngine({ gpu, threads, unifiedKv = false }: EngineStart, log: LogSink): Promise<StartedEngine> {
  // Before the binding loads: its context creation must find the library's definition first.
  const kv = enableUnifiedKv(unifiedKv);
  if (kv.reason) log('warn', kv.reason);
  // make build's measured choice; a local build is found only under the cmake options it was built with.
  const nativeBuild = await nativeBuildChoiceFor(gpu, () => getLlamaGpuTypes('supported'));
  const llama = await getLlama({
    gpu,
    // Each Worker's Llama has its own thread splitter; the scheduler keeps the sum within the budget.
    maxThreads: threads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => log(level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'warn', message.trimEnd()),
    // Never download or compile at run time: use the prebuilt or an existing local build.
    build: 'never',
    ...(nativeBuild.use === 'local' ? { cmakeOptions: nativeBuild.cmakeOptions } : {}),
  });
  return { llama, nativeBuild };
}

/**
 * Validates the file, then loads it with `engine` (started here when not given; either way the
 * loaded model owns it and disposeModel releases it).
 */
export async function loadModel(init: WorkerInit, log: LogSink, signal: AbortSignal, engine?: StartedEngine): Promise<LoadedModel> {
  await validateGguf(init.modelPath);
  const { llama, nativeBuild } = engine ?? (await startEngine(init, log));
  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath: init.modelPath, loadSignal: signal });
    const vocabularySize = vocabularySizeOf(model);
    let context: LlamaContext | undefined;
    let embeddingContext: LlamaEmbeddingContext | undefined;
    let rankingContext: LlamaRankingContext | undefined;
    const sequences: LlamaContextSequence[] = [];
    if (init.mode === 'embedding') {
      embeddingContext = await model.createEmbeddingContext({
        contextSize: init.contextSize,
        threads: init.threads,
        batchSize: init.batchSize ?? init.contextSize,
      });
    } else if (init.mode === 'reranking') {
      // node-llama-cpp refuses a model without a classification head (cls.weight / cls.output.weight).
      if (!model.fileInsights.supportsRanking) throw new AppError('bad_request', 'this model is not a reranker: it has no classification head to score documents with');
      rankingContext = await model.createRankingContext({
        contextSize: init.contextSize,
        threads: init.threads,
        batchSize: init.batchSize ?? init.contextSize,
      });
    } else {
      context = await model.createContext({
        // Per sequence: node-llama-cpp asks for contextSize x sequences cells, which the unified-KV
        // library (when loaded) turns into one cache of contextSize cells that every sequence may fill.
        contextSize: init.contextSize,
        sequences: init.parallel,
        threads: init.threads,
        batchSize: init.batchSize,
        flashAttention: init.flashAttention,
        createSignal: signal,
      });
      for (let i = 0; i < init.parallel; i++) sequences.push(context.getSequence());
      recordSequenceOrder(sequences);
    }
    const chatWrapper = resolveModelChatWrapper(model);
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
      kvUnified,
      kvCells: kvUnified ? contextSize : contextSize * init.parallel,
      memoryBytes: model.memoryUsage.ram + model.memoryUsage.vram + contextMemory.ram + contextMemory.vram,
      backend: `llama.cpp (${llama.gpu === false ? 'cpu' : llama.gpu}, ${binary.build}${binary.cpuVariant ? ` ${binary.cpuVariant}` : ''})`,
      build: binary.build,
      ...(binary.cpuVariant ? { cpuVariant: binary.cpuVariant } : {}),
      version: llama.llamaCppRelease.release,
      trainContextSize: model.trainContextSize,
      embeddingSize: model.embeddingVectorSize,
      vocabularySize,
      chatWrapper: chatWrapper.wrapperName,
    };
    return { llama, model, init, context, sequences, embeddingContext, rankingContext, chatWrapper, vocabularySize, info };
  } catch (err) {
    await model?.dispose().catch(() => undefined);
    await llama.dispose().catch(() => undefined);
    if (err instanceof AppError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError('internal', `failed to load model ${init.modelPath}: ${message}`, { cause: err });
  }
}

/** Disposes in dependency order; each step is attempted even when an earlier one fails. */
export async function disposeModel(loaded: LoadedModel): Promise<void> {
  for (const step of [
    () => loaded.embeddingContext?.dispose(),
    () => loaded.rankingContext?.dispose(),
    () => loaded.context?.dispose(),
    () => loaded.model.dispose(),
    () => loaded.llama.dispose(),
  ]) {
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
