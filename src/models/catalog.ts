/**
 * The catalog: every model-management operation, composed from the store (disk) and the registry
 * client (network). HTTP routes and the CLI call this; neither touches the store directly.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { LoadSpec, ModelMode } from '../engine/types.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Reference } from '../registry/types.js';
import type { LeftoverPurge, ModelStore, StoreSpace } from '../store/types.js';
import { isDiskFull } from '../util/disk-full.js';
import { Semaphore } from '../util/semaphore.js';
import type { ModelAdmission } from './admission.js';
import { isReranker, primaryMode } from './capabilities.js';
import { ModelCreator } from './model-creator.js';
import { type DeleteAction, deleteResolved, type DeleteOptions } from './delete.js';
import { diskFilledUp } from './disk-full.js';
import { buildLoadSpec, GgufValidator } from './load-spec.js';
import { SUPPORTED_CONFIG_TYPES } from './media-types.js';
import { detailsFrom, type Model, ModelViews } from './model-view.js';
import { packageModel, type PackageModelOptions } from './package.js';
import type { ProgressListener } from './progress.js';
import { pullModel, type PullResult } from './pull.js';
import { pushModel } from './push.js';
import type { CatalogRegistry } from './registry-port.js';
import { parseUserReference, resolveModel, type ResolvedModel } from './resolve.js';
import { SettingsService } from './settings.js';
import { SharedOperations } from './shared-operation.js';
import { exportModelTar, loadModelTar } from './tarball.js';

/** Docker Model Runner's `maximumConcurrentModelPulls`. */
export const DEFAULT_MAX_CONCURRENT_PULLS = 2;
/** The progress line of a pull that waits for another one to finish (every pull slot is taken). */
export const WAITING_FOR_PULL_SLOT = 'Waiting for another pull to finish';

export interface CatalogOptions {
  store: ModelStore;
  registry: CatalogRegistry;
  logger: Logger;
  /** Registry for names that carry none. Defaults to "docker.io". */
  defaultRegistry?: string;
  /** Different models downloading at once; more wait their turn. Defaults to 2. */
  maxConcurrentPulls?: number;
  /** Told the number of new bytes each time a pull receives some, for metrics. Defaults to none. */
  onPullBytes?: (bytes: number) => void;
  /** Checks model files before they first run in-process. Defaults to none (every file is trusted). */
  admission?: ModelAdmission;
}

export interface TransferOptions {
  /** Token sent to the registry instead of stored credentials (the request's `bearer-token`). Defaults to none. */
  bearerToken?: string;
  /** The requester went away. A shared pull stops only when all its requesters have. Defaults to none. */
  signal?: AbortSignal;
  /** Receives progress, success and warning events. Defaults to none. */
  onEvent?: ProgressListener;
}

/** What goes into the artifact beside the GGUF, as `package` takes it (see PackageModelOptions). */
export type ImportOptions = Pick<PackageModelOptions, 'licensePaths' | 'chatTemplatePath' | 'mmprojPath' | 'contextSize' | 'created'> & ImportTarget;

export interface ImportTarget {
  /** Tag given to the imported model. Defaults to none (the model is reachable by ID). */
  tag?: string;
  /** What a space error calls the import ("load the uploaded model x.gguf"). Defaults to "package <file name>". */
  what?: string;
  /** Receives the admission check's progress and warnings. Defaults to none. */
  onEvent?: ProgressListener;
}

/** What a transfer stopped by close() ends with. */
const SHUTDOWN_MESSAGE = 'the server is shutting down; a pull started again resumes where this one stopped';

export class Catalog {
  readonly settings: SettingsService;
  /** Uploaded blobs and the models Ollama's create makes from them. */
  readonly creator: ModelCreator;
  private readonly store: ModelStore;
  private readonly registry: CatalogRegistry;
  private readonly logger: Logger;
  private readonly defaultRegistry: string | undefined;
  private readonly onPullBytes: ((bytes: number) => void) | undefined;
  private readonly admission: ModelAdmission | undefined;
  private readonly views: ModelViews;
  private readonly validator = new GgufValidator();
  private readonly pulls = new SharedOperations<string, PullResult, Parameters<ProgressListener>[0]>();
  private readonly pullSlots: Semaphore;
  /** Aborted by close(): stops the transfers in flight. */
  private readonly closing = new AbortController();

  constructor(options: CatalogOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.logger = options.logger;
    this.defaultRegistry = options.defaultRegistry;
    this.onPullBytes = options.onPullBytes;
    this.admission = options.admission;
    this.pullSlots = new Semaphore(options.maxConcurrentPulls ?? DEFAULT_MAX_CONCURRENT_PULLS);
    this.views = new ModelViews(this.store);
    this.settings = new SettingsService(this.store);
    this.creator = new ModelCreator({
      store: this.store,
      logger: this.logger,
      resolve: (name) => this.resolve(name),
      parseReference: (text) => this.parseReference(text),
      details: (id) => this.views.details(id),
      admit: (id, name, emit) => this.admitStored(id, name, emit),
    });
  }

  /** Finds a stored model by ID, short ID, exact tag or partial name. */
  resolve(nameOrId: string): Promise<ResolvedModel> {
    return resolveModel(this.store, nameOrId, { defaultRegistry: this.defaultRegistry });
  }

  /** Parses a reference with this catalog's default registry (throws 'invalid_reference'). */
  parseReference(text: string): Reference {
    return parseUserReference(text, { defaultRegistry: this.defaultRegistry });
  }

  async list(): Promise<Model[]> {
    const entries = await this.store.listModels();
    const models: Model[] = [];
    for (const entry of entries) {
      try {
        models.push(await this.views.view(entry));
      } catch (err) {
        // One unreadable model must not hide the others; Docker skips it with a warning too.
        this.logger.warn('skipping unreadable model', { id: entry.id, error: (err as Error).message });
      }
    }
    return models;
  }

  async get(name: string): Promise<Model> {
    const { entry } = await this.resolve(name);
    return this.views.view(entry);
  }

  /** The model as the registry has it now (`?remote=true`): manifest and config, no tags. */
  async getRemote(name: string, options: Pick<TransferOptions, 'bearerToken' | 'signal'> = {}): Promise<Model> {
    const ref = this.parseReference(name);
    const auth = options.bearerToken ? { bearerToken: options.bearerToken } : undefined;
    const resolved = await this.registry.resolveManifest(ref, auth, options.signal);
    const { config } = resolved.manifest;
    if (!SUPPORTED_CONFIG_TYPES.includes(config.mediaType)) {
      throw new AppError('unsupported', `config type "${config.mediaType}" is not supported by this version of model-runner; try upgrading`);
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'model-runner-config-'));
    try {
      const file = path.join(dir, 'config.json');
      await this.registry.downloadBlob(ref, config, file, { ...auth, signal: options.signal });
      const details = detailsFrom(resolved.manifest, await fs.readFile(file), 'upstream');
      return { id: resolved.digest, tags: [], created: details.created, config: details.config };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Pulls `from` into the store. Requests for the same reference share one download; at most
   * `maxConcurrentPulls` different references download at once.
   */
  async pull(from: string, options: TransferOptions = {}): Promise<PullResult> {
    const ref = this.parseReference(from);
    return this.transfer(() =>
      this.pulls.run(ref.canonical, { onEvent: options.onEvent, signal: options.signal }, async ({ emit, signal: requesters }) => {
        const signal = AbortSignal.any([requesters, this.closing.signal]);
        // Said, so that a pull that does not move is not mistaken for a stuck one.
        if (this.pullSlots.exhausted) emit({ type: 'progress', message: WAITING_FOR_PULL_SLOT });
        const release = await this.pullSlots.acquire(signal);
        try {
          return await pullModel(
            { store: this.store, registry: this.registry, logger: this.logger, onPullBytes: this.onPullBytes },
            { ref, bearerToken: options.bearerToken, emit, signal, beforeSuccess: (id) => this.admitStored(id, ref.canonical, emit) },
          );
        } finally {
          release();
        }
      }),
    );
  }

  /**
   * Stops every pull and push in flight (the server is shutting down): each ends with an
   * 'unavailable' error its requester can tell from a failure, partial downloads stay on disk
   * for the next pull to resume, and new transfers are refused.
   */
  close(): void {
    this.closing.abort(new AppError('unavailable', SHUTDOWN_MESSAGE));
  }

  /** Runs a transfer; one that the catalog's close() stopped says so, whatever error it ended with. */
  private async transfer<T>(run: () => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) throw new AppError('unavailable', SHUTDOWN_MESSAGE);
    try {
      return await run();
    } catch (err) {
      if (this.closing.signal.aborted) throw new AppError('unavailable', SHUTDOWN_MESSAGE, { cause: err });
      throw err;
    }
  }

  /**
   * Pushes a stored model. The target is `name` itself when it is a tag (or a reference to push
   * under); for an ID, the model's first tag.
   */
  async push(name: string, options: TransferOptions = {}): Promise<void> {
    const resolved = await this.resolve(name);
    const targetText = resolved.tag ?? (isIdLike(name) ? resolved.entry.tags[0] : name);
    if (targetText === undefined) {
      throw new AppError('bad_request', `model ${name} has no tag to push it under; tag it first`);
    }
    const target = this.parseReference(targetText);
    const signal = AbortSignal.any([options.signal ?? new AbortController().signal, this.closing.signal]);
    await this.transfer(() =>
      pushModel({ store: this.store, registry: this.registry, logger: this.logger }, { id: resolved.id, target, bearerToken: options.bearerToken, emit: options.onEvent ?? (() => {}), signal }),
    );
  }

  /** Tags the model `source` names as `repo:tag`; returns the stored (canonical) tag. */
  async tag(source: string, repo: string | undefined, tag: string | undefined): Promise<string> {
    if (!repo || !tag) throw new AppError('bad_request', 'both "repo" and "tag" are required');
    const target = this.parseReference(`${repo}:${tag}`);
    if (target.digest !== undefined || target.tag === undefined) {
      throw new AppError('invalid_reference', `invalid tag target ${JSON.stringify(`${repo}:${tag}`)}`);
    }
    const { id } = await this.resolve(source);
    await this.store.addTag(id, target.canonical);
    return target.canonical;
  }

  async delete(name: string, options: DeleteOptions = {}): Promise<DeleteAction[]> {
    const resolved = await this.resolve(name);
    const actions = await deleteResolved(this.store, name, resolved, options);
    if (actions.some((a) => 'Deleted' in a)) {
      this.views.forget(resolved.id);
      this.validator.forget(resolved.id);
      await this.settings.remove(resolved.id);
    }
    return actions;
  }

  async purge(): Promise<void> {
    await this.store.purge();
    this.views.clear();
    this.validator.clear();
  }

  diskUsage(): Promise<number> {
    return this.store.diskUsage();
  }

  /** Free space of the store's file system and what the store could free (GET /engines/df). */
  space(): Promise<StoreSpace> {
    return this.store.space();
  }

  /** Frees partial downloads and blobs no model names, except those of downloads in progress. */
  purgeLeftovers(): Promise<LeftoverPurge> {
    return this.store.purgeLeftovers();
  }

  /** Throws `insufficient_storage` when `neededBytes` more do not fit in the store (an upload's check). */
  ensureSpace(what: string, neededBytes: number): Promise<void> {
    return this.store.ensureSpace(what, neededBytes);
  }

  /** The `insufficient_storage` error for a write outside the catalog (an upload being saved) that found the disk full. */
  diskFilledUp(what: string, neededBytes: number, err: unknown): Promise<AppError> {
    return diskFilledUp(this.store, this.logger, what, neededBytes, err);
  }

  /** A tar archive of the model (blobs and manifest), as `docker model save` writes it. */
  async exportTar(name: string): Promise<{ id: string; stream: Readable }> {
    const { id } = await this.resolve(name);
    return { id, stream: exportModelTar(this.store, id) };
  }

  /**
   * Stores the model in a tar archive; untagged, as Docker does. Returns its ID. With `sizeBytes`
   * (the archive's length) a store without that much room refuses before reading a byte.
   */
  async loadTar(source: Readable, options: { onEvent?: ProgressListener; sizeBytes?: number } = {}): Promise<string> {
    const what = 'load the uploaded model';
    if (options.sizeBytes !== undefined) await this.store.ensureSpace(what, options.sizeBytes);
    let id: string;
    try {
      ({ id } = await loadModelTar(this.store, source));
    } catch (err) {
      // loadModelTar has discarded everything it staged by now.
      if (isDiskFull(err)) throw await diskFilledUp(this.store, this.logger, what, options.sizeBytes ?? 0, err);
      throw err;
    }
    await this.admitStored(id, id, options.onEvent);
    return id;
  }

  /** Packages a GGUF file into a model (validating it first) and stores it. Returns its ID and tags. */
  async importGguf(ggufPath: string, options: ImportOptions = {}): Promise<{ id: string; tags: string[] }> {
    const { tag, what, onEvent, ...artifact } = options;
    const tags = tag ? [this.parseReference(tag).canonical] : [];
    const packaged = await packageModel(this.store, { ...artifact, ggufPath, what, logger: this.logger });
    const id = await this.store.writeModel(packaged.manifestBytes, tags);
    await this.admitStored(id, tags[0] ?? id, onEvent);
    return { id, tags };
  }

  /** Everything the scheduler needs to load `name`; the GGUF is validated before llama.cpp sees it. */
  async resolveForInference(name: string, mode: ModelMode): Promise<LoadSpec> {
    const { id } = await this.resolve(name);
    const [details, settings] = await Promise.all([this.views.details(id), this.settings.get(id)]);
    if (mode === 'reranking' && !isReranker(details.config)) {
      throw new AppError('bad_request', `model "${name}" is not a reranker: it cannot score documents (a reranker's GGUF has pooling type rank and a classification head)`);
    }
    const { spec, weightsDigest } = await buildLoadSpec(this.store, this.validator, { id, name, mode, details, settings });
    await this.admission?.ensure({ name, digest: weightsDigest, modelPath: spec.modelPath, mode });
    return spec;
  }

  /**
   * The admission check right after a model arrives (pull, load, upload), so that its first load
   * pays nothing. The arrival itself succeeds either way, as Docker's does: a refusal is a warning
   * here and a 422 naming the cause when the model is asked to run. Models that are not GGUF
   * cannot run here and are not checked.
   */
  private async admitStored(id: string, name: string, emit?: ProgressListener): Promise<void> {
    if (!this.admission) return;
    try {
      const details = await this.views.details(id);
      if (details.config.format !== '' && details.config.format !== 'gguf') return;
      const mode = primaryMode(details.config);
      const { spec, weightsDigest } = await buildLoadSpec(this.store, this.validator, { id, name, mode, details, settings: {} });
      const onChecking = () => emit?.({ type: 'progress', message: 'Checking that the model loads and runs' });
      await this.admission.ensure({ name, digest: weightsDigest, modelPath: spec.modelPath, mode }, onChecking);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn('model stored but not runnable', { model: name, error: message });
      emit?.({ type: 'warning', message });
    }
  }
}

function isIdLike(name: string): boolean {
  const text = name.trim().toLowerCase();
  return /^(sha256:)?[a-f0-9]{64}$/.test(text) || /^[a-f0-9]{12}$/.test(text);
}
