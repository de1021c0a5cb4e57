/**
 * Engine Workers started ahead of need. A Worker spends most of a small model's cold start before
 * the model matters: importing node-llama-cpp, and loading (on Linux, first test-loading in a
 * child process) the native binding. A spare Worker does that while nobody waits and then waits
 * for its model; the next load takes it and a new spare starts. A spare is one idle Worker with
 * the engine's libraries and no model: it holds a few tens of MiB and no CPU.
 *
 * What the spare said before it was taken (log lines of the engine start) is kept and handed over
 * with it, so a failed start still reaches the model's log.
 */
import { Worker } from 'node:worker_threads';
import type { EngineStart, SpareMessage, WorkerToMain } from './protocol.js';
import { choiceIdentity } from './native-build-watch.js';
import { NATIVE_BUILD_FILE, readNativeBuildChoice } from './worker/native-build.js';
import { resolveWorkerScript } from './worker-script.js';

/** A Worker whose engine is starting or started, and what it posted so far. */
export interface StartedWorker {
  worker: Worker;
  /** Messages posted before anyone listened, oldest first. */
  early: WorkerToMain[];
}

interface Spare extends StartedWorker {
  start: EngineStart;
  /** The llama.cpp binaries chosen when its engine started (native-build-watch.ts); another choice since means a new Worker. */
  binaries: string;
  /** Set when its engine has said it is up. */
  up: boolean;
  ended: boolean;
  /** Resolves when its engine is up or it has ended. */
  settled: Promise<void>;
  collect: (message: WorkerToMain) => void;
}

export class EngineWorkers {
  private spare: Spare | undefined;
  private closed = false;
  /** The model file a spare should read ahead (the one unloaded last), until a load takes a Worker. */
  private likelyNext: string | undefined;

  /**
   * @param keepSpare Whether to keep one Worker started ahead of need.
   * @param binariesFile The decision file whose choice a spare must match to be taken. Defaults to NATIVE_BUILD_FILE.
   */
  constructor(
    private readonly keepSpare: boolean,
    private readonly binariesFile: string = NATIVE_BUILD_FILE,
  ) {}

  /** Starts the spare now (at server start), so that even the first load finds one. */
  prepare(start: EngineStart): void {
    if (!this.keepSpare || this.closed || this.spare) return;
    this.spare = startSpare(start, binariesOf(this.binariesFile));
    if (this.likelyNext !== undefined) postReadAhead(this.spare, this.likelyNext);
  }

  /**
   * Names the model file most likely to load next (one just unloaded comes back most often: a
   * keep-alive that ran out, an unload before a run): the spare reads its GGUF header now, so
   * that its load skips node-llama-cpp's parse of it.
   */
  expect(modelPath: string): void {
    if (!this.keepSpare || this.closed) return;
    this.likelyNext = modelPath;
    if (this.spare) postReadAhead(this.spare, modelPath);
  }

  /** Whether there is a spare now, and whether its engine is up (for tests and diagnostics). */
  get spareState(): 'none' | 'starting' | 'up' {
    if (!this.spare || this.spare.ended) return 'none';
    return this.spare.up ? 'up' : 'starting';
  }

  /** Resolves once the current spare's engine is up (or it failed); at once when there is none. */
  async spareReady(): Promise<void> {
    const spare = this.spare;
    if (!spare) return;
    // Someone waits on it: until it is up, it is work in progress that keeps the process alive.
    spare.worker.ref();
    await spare.settled;
    if (this.spare === spare) spare.worker.unref();
  }

  /**
   * A Worker for one model: the spare when it suits `start`, else a new one. The caller calls
   * prepare() once that model's engine is first idle (first-idle.ts): a new spare starting
   * earlier would take CPU from the very load it is meant to speed up, and from its first request.
   */
  take(start: EngineStart, name: string): StartedWorker {
    const spare = this.spare;
    this.spare = undefined;
    this.likelyNext = undefined;
    let taken: StartedWorker;
    const suits = spare && spare.start.gpu === start.gpu && Boolean(spare.start.unifiedKv) === Boolean(start.unifiedKv) && spare.binaries === binariesOf(this.binariesFile);
    if (spare && !spare.ended && suits) {
      spare.worker.off('message', spare.collect);
      taken = { worker: spare.worker, early: spare.early };
    } else {
      if (spare) stopSpare(spare);
      taken = { worker: newWorker(start, `model ${name}`), early: [] };
    }
    return taken;
  }

  /**
   * Replaces the spare with one started now: the llama.cpp binaries chosen changed (a background
   * build was measured faster), and a spare of the old choice would be refused at the next load,
   * which would then pay for a new Worker.
   */
  renew(): void {
    const spare = this.spare;
    if (!spare || this.closed) return;
    this.spare = undefined;
    void stopSpare(spare);
    this.prepare(spare.start);
  }

  /** Stops the spare and keeps none from now on; resolves once its thread has ended. */
  async close(): Promise<void> {
    this.closed = true;
    const spare = this.spare;
    this.spare = undefined;
    if (spare) await stopSpare(spare);
  }
}

function newWorker(start: EngineStart, name: string): Worker {
  const script = resolveWorkerScript();
  return new Worker(script.entry, { eval: script.eval, workerData: start, name });
}

/** The choice the Workers read at their start, as a comparable string. */
function binariesOf(file: string): string {
  return choiceIdentity(readNativeBuildChoice(file));
}

function startSpare(start: EngineStart, binaries: string): Spare {
  const worker = newWorker(start, 'model engine (spare)');
  let settle = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const spare: Spare = {
    worker,
    start,
    binaries,
    early: [],
    up: false,
    ended: false,
    settled,
    collect: (message) => {
      spare.early.push(message);
      if (message.type === 'engine-ready') {
        spare.up = true;
        settle();
      }
    },
  };
  worker.on('message', spare.collect);
  // A spare that fails is dropped when taken; until then its error must not be unhandled.
  worker.on('error', () => {});
  worker.once('exit', () => {
    spare.ended = true;
    settle();
  });
  // Idle, it must not keep the process alive; a Worker that is taken is ref'd again.
  worker.unref();
  return spare;
}

function postReadAhead(spare: Spare, modelPath: string): void {
  if (!spare.ended) spare.worker.postMessage({ type: 'read-ahead', modelPath } satisfies SpareMessage);
}

function stopSpare(spare: Spare): Promise<void> {
  if (spare.ended) return Promise.resolve();
  const exited = new Promise<void>((resolve) => spare.worker.once('exit', () => resolve()));
  // Whoever stops it waits for its end (its engine is released on the way).
  spare.worker.ref();
  spare.worker.postMessage({ type: 'shutdown' });
  return exited;
}
