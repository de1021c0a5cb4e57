/**
 * What the inference and engines routers need from the rest of the server. The composition
 * root builds one from the catalog and the scheduler; tests build one from stand-ins.
 */
import type { AcquireOptions as EngineAcquireOptions, Lease as EngineLease, LoadSpec, ModelMode, RunnerStatus, RuntimeSettings } from '../../engine/index.js';
import type { Logger } from '../../log.js';
import type { DockerModel } from '../../openai/models.js';
import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import { sendInferenceError } from './inference-errors.js';
import type { Metrics } from './metrics.js';
import type { RequestHistory } from './request-history.js';

/** The only backend this server runs; /engines/{backend}/v1 accepts this name alone. */
export const BACKEND_NAME = 'llama.cpp';

/**
 * Refuses a path that names another backend (/engines/{backend}/v1/...) with a 404; every dialect
 * that serves under /engines/{backend}/ mounts it before its handlers.
 */
export const checkBackend: RequestHandler = (req, res, next) => {
  const backend = req.params.backend;
  if (backend !== undefined && backend !== BACKEND_NAME) {
    sendInferenceError(res, new AppError('not_found', `backend "${backend}" not found`));
    return;
  }
  next();
};

/** A loaded model held for one request: the engine's own lease, released exactly once. */
export type Lease = EngineLease;

/** The request's abort signal and keep_alive, as the engine takes them. */
export type AcquireOptions = EngineAcquireOptions;

/**
 * One loaded (or loading) model as /engines/ps shows it: the engine's status, except that this
 * contract lets a scheduler report lastUsed as null (the engine always sets it).
 */
export interface PsEntry extends Omit<RunnerStatus, 'lastUsed'> {
  /** ISO time of the last release; null while never released. */
  lastUsed: string | null;
}

export interface InferenceScheduler {
  /** Loads the model if needed and leases it; throws AppError busy (with data.retryAfterSeconds), context or memory errors. */
  acquire(spec: LoadSpec, options: AcquireOptions): Promise<Lease>;
  ps(): PsEntry[];
  /**
   * Unloads idle models; returns how many were unloaded. `models` holds model IDs where the
   * router could resolve the name, the name as given otherwise.
   */
  unload(request: { all?: boolean; models?: string[] }): Promise<number>;
  /** Applies changed settings: unloads the idle model so its next load uses them; AppError conflict while busy. */
  reconfigure(id: string): Promise<void>;
  status(): { backend: string; version: string };
  queueDepth(): number;
}

export interface SettingsStore {
  get(id: string): Promise<RuntimeSettings>;
  /** Merges `patch` into the stored settings and returns the result. */
  set(id: string, patch: RuntimeSettings): Promise<RuntimeSettings>;
  list(): Promise<Record<string, RuntimeSettings>>;
}

export interface InferenceDeps {
  /** Resolves a model name or ID as /models does and builds what the scheduler needs; throws AppError not_found. */
  resolveModel(name: string, mode: ModelMode): Promise<LoadSpec>;
  scheduler: InferenceScheduler;
  /** Docker `Model` objects as GET /models returns them. */
  listModels(): Promise<DockerModel[]>;
  /** Persisted per-model runtime settings (_configure); keyed by model ID. */
  settings: SettingsStore;
  metrics: Metrics;
  logger: Logger;
  /** Where inference requests are recorded for GET /engines/requests. Defaults to none kept. */
  requestHistory?: RequestHistory;
}
