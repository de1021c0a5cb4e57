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
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AppError, type SerializedError } from '../errors.js';
import type { AdmissionChildReply, AdmissionChildRequest } from './admission-protocol.js';
import { engineChildEnv } from './child-env.js';
import { resolveChildScript } from './child-script.js';
import { bundledEngineInfo } from './handle-factory.js';
import type { GpuSetting } from './protocol.js';
import type { ModelMode } from './types.js';
import { readNativeBuildChoice } from './worker/native-build.js';
import { TEMPLATE_OVERRUN } from './worker/template-overrun.js';

/** Bump when the check itself changes, so that every cached verdict is made again. */
export const ADMISSION_CHECK_VERSION = 1;
/** Long enough to map a large model from a slow disk and decode two tokens on a slow CPU. */
export const DEFAULT_ADMISSION_TIMEOUT_MS = 120_000;
/** For the child to start node-llama-cpp, before the model's time starts; running out is the engine's failure. */
const ENGINE_START_TIMEOUT_MS = 120_000;
/** The child's V8 heap: model weights live outside it, so a template or tokenizer blow-up stops here. */
const CHILD_HEAP_MB = 1024;
/** stderr kept from the child for the refusal message. */
const STDERR_TAIL_BYTES = 8192;
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
  | { admitted: true; millis: number; chatWrapper: string }
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

export function runAdmissionCheck(options: AdmissionCheckOptions): Promise<AdmissionVerdict> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const request: AdmissionChildRequest = { modelPath: options.modelPath, mode: options.mode, threads: options.threads ?? 1, gpu: options.gpu };
  const script = resolveChildScript('worker/admission-child');
  const timeoutMs = options.timeoutMs ?? DEFAULT_ADMISSION_TIMEOUT_MS;
  if (options.signal?.aborted) return Promise.reject(new AppError('aborted', 'the admission check was cancelled'));

  return new Promise<AdmissionVerdict>((resolve, reject) => {
    const child = fork(script.modulePath, [JSON.stringify(request)], {
      execArgv: [...script.execArgv, `--max-old-space-size=${CHILD_HEAP_MB}`],
      // ggml's abort handler would otherwise attach gdb for a backtrace, which takes seconds.
      env: engineChildEnv(process.env, { GGML_NO_BACKTRACE: '1' }),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    let stderr = '';
    let engineReady = false;
    let reply: Extract<AdmissionChildReply, { type: 'verdict' | 'engine-failed' }> | undefined;
    let ended: 'timeout' | 'aborted' | undefined;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    const kill = (why: 'timeout' | 'aborted') => {
      ended ??= why;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(() => kill('timeout'), ENGINE_START_TIMEOUT_MS);
    child.on('message', (message: AdmissionChildReply) => {
      if (message.type !== 'engine-ready') reply ??= message;
      else if (!engineReady) {
        engineReady = true;
        clearTimeout(timer);
        timer = setTimeout(() => kill('timeout'), timeoutMs);
      }
    });
    const onAbort = () => kill('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.pid === undefined) reject(new AppError('internal', `cannot start the admission check: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (ended === 'aborted') return reject(new AppError('aborted', 'the admission check was cancelled'));
      if (!engineReady) {
        const why = reply?.type === 'engine-failed' ? reply.error.message : ended === 'timeout' ? `not up within ${ENGINE_START_TIMEOUT_MS / 1000} s` : lastWords(stderr) || `exit code ${code ?? signal}`;
        return reject(new AppError('internal', `the admission check could not start the engine: ${why}`));
      }
      if (ended === 'timeout') return resolve({ admitted: false, millis: elapsed(), reason: `loading it and decoding two tokens did not finish within ${timeoutMs / 1000} s` });
      if (reply?.type === 'verdict' && reply.ok) return resolve({ admitted: true, millis: elapsed(), chatWrapper: reply.chatWrapper });
      if (reply?.type === 'verdict') return settleCleanFailure(reply.error, elapsed(), resolve, reject);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const detail = lastWords(stderr);
      resolve({ admitted: false, millis: elapsed(), reason: `the engine ${how} while loading it${detail ? `: ${detail}` : ''}` });
    });
  });
}

function settleCleanFailure(error: SerializedError, millis: number, resolve: (v: AdmissionVerdict) => void, reject: (e: unknown) => void): void {
  // A template over its time limit may only have met a busy machine: refused now, checked again next time.
  const overranTime = error.data?.[TEMPLATE_OVERRUN] === 'time';
  if (TRANSIENT_CODES.has(error.code) || overranTime) return reject(AppError.fromJSON(error));
  resolve({ admitted: false, millis, reason: scrubPaths(error.message) });
}

/**
 * The lines of a dying engine's stderr that say why (GGML_ASSERT, an uncaught C++ exception, a
 * V8 fatal error), without file-system paths: refusals reach API clients.
 */
export function lastWords(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^#+/, '').trim())
    .filter((l) => l.length > 0 && !/^(=+|-+.*-+|\d+: 0x.*|FailureMessage Object.*)$/.test(l));
  const telling = lines.filter((l) => /GGML_ASSERT|terminate called|what\(\)|fatal|error|abort|out of memory|exception/i.test(l));
  const chosen = (telling.length > 0 ? telling : lines).slice(-3).join(' | ');
  const scrubbed = scrubPaths(chosen);
  return scrubbed.length > 500 ? `${scrubbed.slice(0, 497)}...` : scrubbed;
}

/** Keeps only the last component of absolute paths ("/a/b/llama-model.cpp:12" -> "llama-model.cpp:12"). */
export function scrubPaths(text: string): string {
  return text.replace(/(?:[A-Za-z]:)?(?:[/\\][^\s/\\:'"()]+)+[/\\]([^\s/\\:'"()]+)/g, '$1');
}
