/**
 * The model service: resolve, show, delete, configure and unload with one policy, whatever the
 * dialect. Docker's /models and /engines routes, Ollama's /api routes and the one-shot CLI
 * commands all come here; they differ only in how they render the outcome (status codes,
 * bodies), never in what happens to the store or the engine.
 *
 * The policy, in one place:
 * - A name is an ID (full, sha256:-prefixed or short), an exact tag, or a partial name
 *   (resolve.ts); an unknown one is `not_found` for every operation but unload, which also
 *   matches names against what is loaded (a model deleted while serving can still be unloaded).
 * - Delete by a tag that other tags share only untags: the engine is not told. Delete by ID of a
 *   model several tags name needs `force`.
 * - A delete that removes the model refuses (`conflict`) while the model serves or loads, unless
 *   forced; otherwise the engine retires the model's runners first (their files are open): idle
 *   ones unload at once, and a forced delete's busy ones finish what they serve, then unload.
 *   Then the files go.
 * - Configure persists the settings first, then asks the engine to apply them: an idle runner
 *   unloads; a busy one keeps serving, and the outcome says the settings wait for its next load.
 */
import type { ModelMode, RuntimeSettings } from '../engine/types.js';
import { AppError, isAppError } from '../errors.js';
import { type Capability, capabilitiesOf, isReranker } from './capabilities.js';
import type { Catalog } from './catalog.js';
import { type DeleteAction, deleteRemovesModel } from './delete.js';
import type { Model } from './model-view.js';
import type { ResolvedModel } from './resolve.js';
import type { SettingsPatch, SettingsService } from './settings.js';

/** The engine as the model service needs it; the scheduler is one. */
export interface ModelEngine {
  /** Loaded and loading runners, with how many requests each serves. */
  ps(): Array<{ id: string; inUse: number; loading: boolean }>;
  /** Unloads idle runners: all, or those of the models named (ID, short ID or name). Returns how many. */
  unload(selector: { all?: boolean; models?: string[] }): Promise<number>;
  /** Unloads the model's idle runners so its next load uses new settings; `conflict` while busy. */
  reconfigure(id: string): Promise<void>;
  /**
   * Ends the runners of deleted models: idle ones unload now, busy ones once their requests end.
   * Returns how many unloaded now.
   */
  retire(selector: { models: string[] }, reason: string): Promise<number>;
}

/** The part of the catalog the service composes; the Catalog class is one. */
export interface ModelCatalog extends Pick<Catalog, 'resolve' | 'get' | 'delete' | 'list' | 'purge'> {
  settings: Pick<SettingsService, 'get' | 'set' | 'list'>;
}

export interface ModelServiceOptions {
  catalog: ModelCatalog;
  /**
   * The running engine. Defaults to none: a one-shot command with no server, where nothing is
   * loaded, so nothing is unloaded, busy or reconfigured.
   */
  engine?: ModelEngine;
}

export interface DeleteModelOptions {
  /** Delete by ID a model several tags name, and delete a model that is serving requests. Defaults to false. */
  force?: boolean;
}

export interface DeleteOutcome {
  /** What happened to the store, in Docker's words: each tag removed, then the model if it went. */
  actions: DeleteAction[];
  /** The model's ID when the model itself was removed (not only one of its tags). */
  deletedId?: string;
  /** Runners the engine unloaded for the delete. */
  unloadedRunners: number;
}

export interface ShowOutcome {
  model: Model;
  capabilities: Capability[];
  /** Runtime settings configured for the model (empty when none). */
  settings: RuntimeSettings;
}

export interface ConfigureOutcome {
  id: string;
  /** The model's settings after the change. */
  settings: RuntimeSettings;
  /**
   * Set when the engine could not apply the settings now (the model serves requests): they are
   * stored and apply at its next load. Docker's route answers it as a 409; Ollama's serves on.
   */
  pending?: AppError;
}

export interface ConfiguredModel {
  id: string;
  /** The model's first tag, or its ID when it has none. */
  name: string;
  settings: RuntimeSettings;
}

export interface UnloadOutcome {
  /** Runners unloaded. */
  unloadedRunners: number;
  /** Names asked for that name no stored model (they were still matched against what is loaded). */
  unknown: string[];
}

export class ModelService {
  private readonly catalog: ModelCatalog;
  private readonly engine: ModelEngine | undefined;

  constructor(options: ModelServiceOptions) {
    this.catalog = options.catalog;
    this.engine = options.engine;
  }

  /** Finds a stored model by ID, short ID, exact tag or partial name; `not_found` otherwise. */
  resolve(name: string): Promise<ResolvedModel> {
    return this.catalog.resolve(name);
  }

  /** Whether the engine is serving requests with the model or loading it (requests wait for it). */
  isInUse(id: string): boolean {
    return (this.engine?.ps() ?? []).some((runner) => runner.id === id && (runner.inUse > 0 || runner.loading));
  }

  async show(name: string): Promise<ShowOutcome> {
    const model = await this.catalog.get(name);
    const settings = await this.catalog.settings.get(model.id);
    return { model, capabilities: capabilitiesOf(model.config), settings };
  }

  async delete(name: string, options: DeleteModelOptions = {}): Promise<DeleteOutcome> {
    const force = options.force === true;
    const resolved = await this.resolve(name);
    let unloadedRunners = 0;
    if (deleteRemovesModel(resolved, force)) {
      if (!force && this.isInUse(resolved.id)) {
        throw new AppError('conflict', `model ${JSON.stringify(name)} is in use; try again when its requests finish, or force the delete`);
      }
      // Before the files go (runners hold them open); a forced delete's busy runners finish first.
      unloadedRunners = (await this.engine?.retire({ models: [resolved.id] }, 'the model was deleted')) ?? 0;
    }
    const actions = await this.catalog.delete(name, { force });
    const deleted = actions.find((action): action is { Deleted: string } => 'Deleted' in action);
    return { actions, ...(deleted === undefined ? {} : { deletedId: deleted.Deleted }), unloadedRunners };
  }

  /**
   * Merges `patch` into the model's settings and asks the engine to apply them. `mode` is what
   * the model will be loaded for: a model that cannot serve it is refused before anything changes.
   */
  async configure(name: string, mode: ModelMode, patch: SettingsPatch): Promise<ConfigureOutcome> {
    const model = await this.catalog.get(name);
    if (mode === 'reranking' && !isReranker(model.config)) {
      throw new AppError('bad_request', `model "${name}" is not a reranker: it cannot be configured for reranking`);
    }
    // Persisted first, so that a model busy now picks the settings up at its next load.
    const settings = await this.catalog.settings.set(model.id, patch);
    try {
      await this.engine?.reconfigure(model.id);
    } catch (err) {
      if (isAppError(err) && err.code === 'conflict') return { id: model.id, settings, pending: err };
      throw err;
    }
    return { id: model.id, settings };
  }

  /** Configured settings of every model, or of the model `name` resolves to. */
  async configured(name?: string): Promise<ConfiguredModel[]> {
    const all = await this.catalog.settings.list();
    let ids = Object.keys(all);
    if (name !== undefined && name.trim() !== '') {
      const { id } = await this.resolve(name);
      ids = ids.filter((candidate) => candidate === id);
    }
    const names = new Map((await this.catalog.list()).map((m) => [m.id, m.tags[0] ?? m.id] as const));
    return ids.map((id) => ({ id, name: names.get(id) ?? id, settings: all[id]! }));
  }

  /**
   * Unloads the idle runners of the models named, or of all models. A name no stored model has
   * is passed to the engine as it is (it matches runners by name too) and reported in `unknown`.
   */
  async unload(request: { all?: boolean; names?: string[] }): Promise<UnloadOutcome> {
    const unknown: string[] = [];
    const models: string[] = [];
    for (const name of request.names ?? []) {
      const id = await this.resolve(name).then(
        (resolved) => resolved.id,
        (err: unknown) => {
          if (isAppError(err) && (err.code === 'not_found' || err.code === 'invalid_reference')) return undefined;
          throw err;
        },
      );
      if (id === undefined) unknown.push(name);
      models.push(id ?? name);
    }
    const unloadedRunners = (await this.engine?.unload({ all: request.all === true, models })) ?? 0;
    return { unloadedRunners, unknown };
  }

  /** Unloads every idle model, then removes every model from the store. */
  async purge(): Promise<void> {
    await this.engine?.unload({ all: true });
    await this.catalog.purge();
  }
}
