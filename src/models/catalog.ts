/**
 * The catalog: every model-management operation, composed from the store (disk) and the registry
 * client (network; pulls, pushes and remote reads are transfers.ts). HTTP routes and the CLI call
 * this; neither touches the store directly.
 */
import type { Readable } from 'node:stream';
import type { LoadSpec, ModelMode } from '../engine/types.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Reference } from '../registry/types.js';
import type { LeftoverPurge, ModelStore, StoreSpace } from '../store/types.js';
import { isDiskFull } from '../util/disk-full.js';
import type { ModelAdmission } from './admission.js';
import { isReranker, primaryMode } from './capabilities.js';
import { ModelCreator } from './model-creator.js';
import { type DeleteAction, deleteResolved, type DeleteOptions } from './delete.js';
import { diskFilledUp } from './disk-full.js';
import { buildLoadSpec, GgufValidator } from './load-spec.js';
import { type Model, ModelViews } from './model-view.js';
import { packageModel, type PackageModelOptions } from './package.js';
import type { ProgressListener } from './progress.js';
import type { PullResult } from './pull.js';
import type { CatalogRegistry } from './registry-port.js';
import { parseUserReference, resolveModel, type ResolvedModel } from './resolve.js';
import { SettingsService } from './settings.js';
import { exportModelTar, loadModelTar } from './tarball.js';
import { DEFAULT_MAX_CONCURRENT_PULLS, type TransferOptions, Transfers } from './transfers.js';

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

export class Catalog {
  readonly settings: SettingsService;
  /** Uploaded blobs and the models Ollama's create makes from them. */
  readonly creator: ModelCreator;
  private readonly store: ModelStore;
  private readonly logger: Logger;
  private readonly defaultRegistry: string | undefined;
  private readonly admission: ModelAdmission | undefined;
  private readonly views: ModelViews;
  private readonly validator = new GgufValidator();
  private readonly transfers: Transfers;

  constructor(options: CatalogOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.defaultRegistry = options.defaultRegistry;
    this.admission = options.admission;
    this.transfers = new Transfers({
      store: this.store,
      registry: options.registry,
      logger: this.logger,
      maxConcurrentPulls: options.maxConcurrentPulls ?? DEFAULT_MAX_CONCURRENT_PULLS,
      onPullBytes: options.onPullBytes,
      parseReference: (text) => this.parseReference(text),
      resolve: (name) => this.resolve(name),
      admit: (id, name, emit) => this.admitStored(id, name, emit),
    });
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
  getRemote(name: string, options: Pick<TransferOptions, 'bearerToken' | 'signal'> = {}): Promise<Model> {
    return this.transfers.getRemote(name, options);
  }

  /**
   * Pulls `from` into the store. Requests for the same reference share one download; at most
   * `maxConcurrentPulls` different references download at once.
   */
  pull(from: string, options: TransferOptions = {}): Promise<PullResult> {
    return this.transfers.pull(from, options);
  }

  /** Stops every pull and push in flight (the server is shutting down); see Transfers.close. */
  close(): void {
    this.transfers.close();
  }

  /** Pushes a stored model under `name`'s tag, or under an ID's first tag. */
  push(name: string, options: TransferOptions = {}): Promise<void> {
    return this.transfers.push(name, options);
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
    const verdict = await this.admission?.ensure({ name, digest: weightsDigest, modelPath: spec.modelPath, mode });
    return verdict?.chatWrapperType ? { ...spec, firstLoadMemo: { ...spec.firstLoadMemo, chatWrapperType: verdict.chatWrapperType } } : spec;
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
