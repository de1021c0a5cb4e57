/**
 * What the scheduler needs from a loaded model, real (a Worker) or fake (unit tests).
 */
import type { AppError } from '../errors.js';
import type { LoadSpec, ModelSession } from './types.js';

/** Settings the scheduler resolved for one load. */
export interface ResolvedSettings {
  /** Context size per sequence, in tokens. */
  contextSize: number;
  parallel: number;
  /**
   * Threads the model is guaranteed: what the placement check counts against the budget, and what
   * it is loaded with unless the scheduler gives it more (see thread-shares.ts).
   */
  threads: number;
  /** The most threads the scheduler may give it while it is loaded (its thread pool's size). Defaults to `threads`. */
  maxThreads?: number;
}

export interface HandleInfo extends ResolvedSettings {
  /** Memory the loaded model uses (model plus context), in bytes. */
  memoryBytes: number;
  backend: string;
  version: string;
}

export interface ModelHandle extends ModelSession {
  /** Loads the model; rejects with an AppError when it cannot. */
  load(signal?: AbortSignal): Promise<HandleInfo>;
  /** Stops cooperatively: in-flight work is aborted, then native resources are released. */
  dispose(): Promise<void>;
  /**
   * Gives the model a new share of the cores, because other models loaded or unloaded: it is
   * loaded with it when its load has not started, and uses it from its next batch on when it has.
   */
  setThreads(threads: number): void;
  /** Set once load() resolved. */
  readonly info: HandleInfo | undefined;
  /** Registers a callback for a failure after load (the Worker died); in-flight requests already failed. */
  onFailure(listener: (error: AppError) => void): void;
  /**
   * Registers a callback for an engine that asks to be replaced: it refuses new requests, lets
   * in-flight ones finish, and should be disposed once they have.
   */
  onRetire(listener: (reason: string) => void): void;
}

/** Creates a handle that has not started loading yet. */
export type HandleFactory = (spec: LoadSpec, settings: ResolvedSettings) => ModelHandle;
