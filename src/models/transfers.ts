/**
 * The catalog's traffic with registries: pulls (shared per reference, a bounded number of
 * references at once), pushes, and reading a model as the registry has it now. close() stops
 * every transfer in flight for a shutdown, leaving partial downloads for the next pull to resume.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Reference } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { Semaphore } from '../util/semaphore.js';
import { SUPPORTED_CONFIG_TYPES } from './media-types.js';
import { detailsFrom, type Model } from './model-view.js';
import type { ProgressListener } from './progress.js';
import { pullModel, type PullResult } from './pull.js';
import { pushModel } from './push.js';
import type { CatalogRegistry } from './registry-port.js';
import type { ResolvedModel } from './resolve.js';
import { SharedOperations } from './shared-operation.js';

/** Docker Model Runner's `maximumConcurrentModelPulls`. */
export const DEFAULT_MAX_CONCURRENT_PULLS = 2;
/** The progress line of a pull that waits for another one to finish (every pull slot is taken). */
export const WAITING_FOR_PULL_SLOT = 'Waiting for another pull to finish';

/** What a transfer stopped by close() ends with. */
const SHUTDOWN_MESSAGE = 'the server is shutting down; a pull started again resumes where this one stopped';

export interface TransferOptions {
  /** Token sent to the registry instead of stored credentials (the request's `bearer-token`). Defaults to none. */
  bearerToken?: string;
  /** The requester went away. A shared pull stops only when all its requesters have. Defaults to none. */
  signal?: AbortSignal;
  /** Receives progress, success and warning events. Defaults to none. */
  onEvent?: ProgressListener;
}

export interface TransfersOptions {
  store: ModelStore;
  registry: CatalogRegistry;
  logger: Logger;
  /** Different models downloading at once; more wait their turn. */
  maxConcurrentPulls: number;
  /** Told the number of new bytes each time a pull receives some, for metrics. Defaults to none. */
  onPullBytes?: (bytes: number) => void;
  /** The catalog's reference parser (its default registry). */
  parseReference: (text: string) => Reference;
  /** The catalog's lookup of a stored model by name or ID. */
  resolve: (nameOrId: string) => Promise<ResolvedModel>;
  /** Runs before a pulled model is reported a success: the catalog's admission check. */
  admit: (id: string, name: string, emit: ProgressListener) => Promise<void>;
}

export class Transfers {
  private readonly pulls = new SharedOperations<string, PullResult, Parameters<ProgressListener>[0]>();
  private readonly pullSlots: Semaphore;
  /** Aborted by close(): stops the transfers in flight. */
  private readonly closing = new AbortController();

  constructor(private readonly options: TransfersOptions) {
    this.pullSlots = new Semaphore(options.maxConcurrentPulls);
  }

  /**
   * Pulls `from` into the store. Requests for the same reference share one download; at most
   * `maxConcurrentPulls` different references download at once.
   */
  async pull(from: string, options: TransferOptions = {}): Promise<PullResult> {
    const { store, registry, logger, onPullBytes } = this.options;
    const ref = this.options.parseReference(from);
    return this.transfer(() =>
      this.pulls.run(ref.canonical, { onEvent: options.onEvent, signal: options.signal }, async ({ emit, signal: requesters }) => {
        const signal = AbortSignal.any([requesters, this.closing.signal]);
        // Said, so that a pull that does not move is not mistaken for a stuck one.
        if (this.pullSlots.exhausted) emit({ type: 'progress', message: WAITING_FOR_PULL_SLOT });
        const release = await this.pullSlots.acquire(signal);
        try {
          return await pullModel(
            { store, registry, logger, onPullBytes },
            { ref, bearerToken: options.bearerToken, emit, signal, beforeSuccess: (id) => this.options.admit(id, ref.canonical, emit) },
          );
        } finally {
          release();
        }
      }),
    );
  }

  /**
   * Pushes a stored model. The target is `name` itself when it is a tag (or a reference to push
   * under); for an ID, the model's first tag.
   */
  async push(name: string, options: TransferOptions = {}): Promise<void> {
    const { store, registry, logger } = this.options;
    const resolved = await this.options.resolve(name);
    const targetText = resolved.tag ?? (isIdLike(name) ? resolved.entry.tags[0] : name);
    if (targetText === undefined) {
      throw new AppError('bad_request', `model ${name} has no tag to push it under; tag it first`);
    }
    const target = this.options.parseReference(targetText);
    const signal = AbortSignal.any([options.signal ?? new AbortController().signal, this.closing.signal]);
    await this.transfer(() =>
      pushModel({ store, registry, logger }, { id: resolved.id, target, bearerToken: options.bearerToken, emit: options.onEvent ?? (() => {}), signal }),
    );
  }

  /** The model as the registry has it now (`?remote=true`): manifest and config, no tags. */
  async getRemote(name: string, options: Pick<TransferOptions, 'bearerToken' | 'signal'> = {}): Promise<Model> {
    const { registry } = this.options;
    const ref = this.options.parseReference(name);
    const auth = options.bearerToken ? { bearerToken: options.bearerToken } : undefined;
    const resolved = await registry.resolveManifest(ref, auth, options.signal);
    const { config } = resolved.manifest;
    if (!SUPPORTED_CONFIG_TYPES.includes(config.mediaType)) {
      throw new AppError('unsupported', `config type "${config.mediaType}" is not supported by this version of model-runner; try upgrading`);
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'model-runner-config-'));
    try {
      const file = path.join(dir, 'config.json');
      await registry.downloadBlob(ref, config, file, { ...auth, signal: options.signal });
      const details = detailsFrom(resolved.manifest, await fs.readFile(file), 'upstream');
      return { id: resolved.digest, tags: [], created: details.created, config: details.config };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Stops every pull and push in flight (the server is shutting down): each ends with an
   * 'unavailable' error its requester can tell from a failure, partial downloads stay on disk
   * for the next pull to resume, and new transfers are refused.
   */
  close(): void {
    this.closing.abort(new AppError('unavailable', SHUTDOWN_MESSAGE));
  }

  /** Runs a transfer; one that close() stopped says so, whatever error it ended with. */
  private async transfer<T>(run: () => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) throw new AppError('unavailable', SHUTDOWN_MESSAGE);
    try {
      return await run();
    } catch (err) {
      if (this.closing.signal.aborted) throw new AppError('unavailable', SHUTDOWN_MESSAGE, { cause: err });
      throw err;
    }
  }
}

function isIdLike(name: string): boolean {
  const text = name.trim().toLowerCase();
  return /^(sha256:)?[a-f0-9]{64}$/.test(text) || /^[a-f0-9]{12}$/.test(text);
}
