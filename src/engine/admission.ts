/**
 * The admission check: before a model file is first loaded in-process, a short-lived child
 * process loads it and runs a few tiny requests through the real engine code
 * (worker/admission-child.ts). A Worker isolates the event loop, not native code: a GGML_ASSERT,
 * an uncaught C++ exception or a V8 out-of-memory in any Worker ends the whole server. Here it
 * ends only the child, and the model is refused with the cause. A check that does not finish in
 * time is killed and refuses the model too (a Worker in that state could never be stopped).
 *
 * Verdicts are facts about a file and an engine build, so the caller caches them under
 * engineFingerprint(); failures that say nothing about the file (cancelled, out of memory, no
 * process) are thrown instead of returned so that nobody caches them.
 */
import { readFileSync } from 'node:fs';
import { AppError, type SerializedError } from '../errors.js';
import { AdmissionChildren } from './admission-child-process.js';
import { lastWords, scrubPaths } from './admission-words.js';
import { bundledEngineInfo } from './handle-factory.js';
import type { GpuSetting } from './protocol.js';
import type { ModelMode } from './types.js';
import { readNativeBuildChoice } from './worker/native-build.js';
import { TEMPLATE_OVERRUN } from './worker/template-overrun.js';

/** Bump when the check itself changes, so that every cached verdict is made again. */
export const ADMISSION_CHECK_VERSION = 1;
/** Long enough to map a large model from a slow disk and decode two tokens on a slow CPU. */
export const DEFAULT_ADMISSION_TIMEOUT_MS = 120_000;
/** Error codes a clean failure may carry that describe the machine or the moment, not the file. */
const TRANSIENT_CODES = new Set(['insufficient_memory', 'aborted', 'unavailable', 'busy']);

export interface AdmissionCheckOptions {
  modelPath: string;
  mode: ModelMode;
  /** Backend the model will run on; false is CPU only. */
  gpu: GpuSetting;
  /** CPU threads for the check. Defaults to 1. */
  threads?: number;
  /** Longest the model's part of the check (from the engine being up) may take before the child is killed and the model refused. Defaults to DEFAULT_ADMISSION_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Cancels the check (the child is killed); the promise then rejects with 'aborted'. Defaults to none. */
  signal?: AbortSignal;
}

export type AdmissionVerdict =
  /** `chatWrapperType`: the wrapper type the check's load found (LoadMemo.chatWrapperType), a hint for the model's first load. */
  | { admitted: true; millis: number; chatWrapper: string; chatWrapperType?: string }
  | { admitted: false; millis: number; reason: string };

/** Identifies what a verdict was made with: the check, node-llama-cpp, llama.cpp, the binaries and the backend. */
export function engineFingerprint(gpu: GpuSetting): string {
  const engine = bundledEngineInfo();
  const binaries = readNativeBuildChoice().use === 'local' ? 'local' : 'prebuilt';
  return `admission-v${ADMISSION_CHECK_VERSION} node-llama-cpp@${nodeLlamaCppVersion()} llama.cpp@${engine.version} ${binaries} gpu=${gpu === false ? 'cpu' : gpu}`;
}

function nodeLlamaCppVersion(): string {
  try {
    const url = new URL('../package.json', import.meta.resolve('node-llama-cpp'));
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The check children of the whole process, and their warm spares. */
const children = new AdmissionChildren();

/**
 * Stops the warm spare children now (they would end with the process anyway). A spare's
 * environment is the one it was started with: stop them after changing what a check should see.
 */
export function stopAdmissionChildren(): void {
  children.close();
}

export async function runAdmissionCheck(options: AdmissionCheckOptions): Promise<AdmissionVerdict> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = options.timeoutMs ?? DEFAULT_ADMISSION_TIMEOUT_MS;
  const cancelled = () => new AppError('aborted', 'the admission check was cancelled');
  if (options.signal?.aborted) throw cancelled();
  const child = children.take({ threads: options.threads ?? 1, gpu: options.gpu });
  const onAbort = () => child.kill('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      await child.engineReady;
    } catch (err) {
      if (options.signal?.aborted) throw cancelled();
      throw err;
    }
    child.check(options.modelPath, options.mode);
    timer = setTimeout(() => child.kill('timeout'), timeoutMs);
    const end = await child.ended;
    if (end.endedBy === 'aborted') throw cancelled();
    if (end.endedBy === 'timeout') return { admitted: false, millis: elapsed(), reason: `loading it and decoding two tokens did not finish within ${timeoutMs / 1000} s` };
    const { verdict } = end;
    if (verdict?.ok) return { admitted: true, millis: elapsed(), chatWrapper: verdict.chatWrapper, ...(verdict.chatWrapperType ? { chatWrapperType: verdict.chatWrapperType } : {}) };
    if (verdict) return settleCleanFailure(verdict.error, elapsed());
    const how = end.signal ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
    const detail = lastWords(end.stderr);
    return { admitted: false, millis: elapsed(), reason: `the engine ${how} while loading it${detail ? `: ${detail}` : ''}` };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function settleCleanFailure(error: SerializedError, millis: number): AdmissionVerdict {
  // A template over its time limit may only have met a busy machine: refused now, checked again next time.
  const overranTime = error.data?.[TEMPLATE_OVERRUN] === 'time';
  if (TRANSIENT_CODES.has(error.code) || overranTime) throw AppError.fromJSON(error);
  return { admitted: false, millis, reason: scrubPaths(error.message) };
}
