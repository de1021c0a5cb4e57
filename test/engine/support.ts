/**
 * Real engines (Workers, or child processes with isolation 'process') on a generated tiny model. Threads are always 1: the default thread count
 * oversubscribes small machines and makes decoding far slower.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { unifiedKvLibraryPresent } from '../../src/engine/unified-kv-library.js';
import type { Isolation } from '../../src/engine/protocol.js';
import type { GenerateEvent, GenerateRequest, LoadMemo, ModelMode } from '../../src/engine/types.js';
import { generateModel } from '../../src/gguf/generate.js';
import { createSilentLogger } from '../../src/log.js';

export interface TinyModel {
  path: string;
  cleanup(): Promise<void>;
}

/** A generated tiny model; `reranker` makes the qwen3 reranker with a classification head. Defaults to false. */
export async function tinyModel(options: { reranker?: boolean } = {}): Promise<TinyModel> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'engine-test-'));
  const file = path.join(dir, 'tiny.gguf');
  await generateModel({ path: file, preset: 'tiny', type: 'q8_0', seed: 1, reranker: options.reranker });
  return { path: file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The tiny vocabulary is nearly one token per character, so tool prompts need a larger context than it was "trained" for. */
export const TEST_CONTEXT = 2048;

export interface LoadHandleOptions {
  mode?: ModelMode;
  /** What earlier loads learned, by model ID, read and written by the load (WorkerModelHandleOptions.loadMemos). Defaults to none. */
  loadMemos?: Map<string, LoadMemo>;
  contextSize?: number;
  parallel?: number;
  /** Defaults to 'thread'. */
  isolation?: Isolation;
  hangTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** One KV cache shared by the sequences (process-wide in the engine's process). Defaults to false. */
  unifiedKv?: boolean;
  /** Threads the model starts with. Defaults to 1. */
  threads?: number;
  /** The most threads it may be given later. Defaults to `threads`. */
  maxThreads?: number;
}

export async function loadHandle(modelPath: string, options: LoadHandleOptions = {}): Promise<WorkerModelHandle> {
  const handle = new WorkerModelHandle({
    spec: { id: 'sha256:tiny', name: 'tiny', modelPath, mode: options.mode ?? 'completion', settings: {} },
    settings: { contextSize: options.contextSize ?? TEST_CONTEXT, parallel: options.parallel ?? 1, threads: options.threads ?? 1, maxThreads: options.maxThreads },
    gpu: false,
    logger: createSilentLogger(),
    isolation: options.isolation,
    hangTimeoutMs: options.hangTimeoutMs,
    stopTimeoutMs: options.stopTimeoutMs,
    unifiedKv: options.unifiedKv,
    loadMemos: options.loadMemos,
  });
  await handle.load();
  return handle;
}

export async function collect(handle: WorkerModelHandle, request: GenerateRequest, signal?: AbortSignal): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of handle.generate(request, signal)) events.push(event);
  return events;
}

export function textOf(events: readonly GenerateEvent[]): string {
  return events.map((e) => (e.type === 'text' ? e.text : '')).join('');
}

export function doneOf(events: readonly GenerateEvent[]): Extract<GenerateEvent, { type: 'done' }> {
  const last = events[events.length - 1];
  if (last?.type !== 'done') throw new Error(`the stream did not end with done: ${JSON.stringify(last)}`);
  return last;
}

/** Why the tests of the interposer library (native/llama-context-params) cannot run here, or false when they can. */
export const interposerSkip: string | false =
  process.platform !== 'linux' ? 'the interposer library is built for Linux only' : !unifiedKvLibraryPresent() ? 'the interposer library is not built (make build)' : false;

/** A greedy completion of `maxTokens` tokens that ignores end-of-generation: always exactly that many. */
export function fixedLengthRequest(maxTokens: number): GenerateRequest {
  return { kind: 'completion', prompt: 'hello there', sampling: { maxTokens, temperature: 0, ignoreEos: true } };
}
