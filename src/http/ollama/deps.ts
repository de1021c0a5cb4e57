/**
 * What the Ollama-compatible routes need: everything the inference routes need, plus a narrow
 * port onto the model service and the catalog. The composition root adapts them to the port
 * (catalog-port.ts); tests back it with stand-ins.
 */
import type { BlobUpload, Capability, ConfigureOutcome, CreateRequest, ModelExtras, ProgressListener, SettingsPatch } from '../../models/index.js';
import type { ModelSummary } from '../../ollama/details.js';
import type { InferenceDeps } from '../common/inference-deps.js';

export interface OllamaPullOptions {
  /** The client went away: stop the pull (a pull shared with others stops when all have). */
  signal: AbortSignal;
  /** Receives the catalog's progress, success and warning events. */
  onEvent: ProgressListener;
}

export interface OllamaCreateOptions {
  /** Receives the create's steps and warnings. */
  onEvent: ProgressListener;
}

export interface OllamaShowResult {
  /** The stored model: ID, tags, creation time and config (with its `gguf` metadata map). */
  model: ModelSummary;
  /** What the model can do (Ollama's `capabilities`). */
  capabilities: Capability[];
}

export interface OllamaRemoveResult {
  /** The model ID when the model itself was deleted (not merely one of its tags). */
  deletedId?: string;
}

export interface OllamaCatalogPort {
  /** Pulls a reference into the store; throws AppError (invalid_reference, unauthorized, not_found...). */
  pull(from: string, options: OllamaPullOptions): Promise<unknown>;
  /**
   * Removes the tag `name` (the model too once no tag is left, unloading it first); throws
   * AppError not_found, or conflict while the model serves requests.
   */
  remove(name: string): Promise<OllamaRemoveResult>;
  /** Tags the model `source` names as `destination`; throws not_found for the source, invalid_reference for the target. */
  copy(source: string, destination: string): Promise<void>;
  /** The stored model `name` resolves to; throws AppError not_found. */
  show(name: string): Promise<OllamaShowResult>;
  /** Unloads the idle model `name` (a request with keep_alive 0); throws AppError not_found for a name nothing has. */
  unload(name: string): Promise<void>;
  /** Changes the settings of the model `name` for completion, as `_configure` does (options.num_ctx). */
  configure(name: string, patch: SettingsPatch): Promise<ConfigureOutcome>;
  /** The system prompt, parameters, messages and licenses a stored model carries; throws AppError not_found. */
  extras(name: string): Promise<ModelExtras>;
  /** Whether the store holds blob `digest`. */
  hasBlob(digest: string): Promise<boolean>;
  /** Stores an uploaded blob, verified against its digest (bad_request on a mismatch); false when it was already there. */
  receiveBlob(upload: BlobUpload): Promise<boolean>;
  /** Creates the model `name` from uploaded blobs or a stored model (Ollama's create). */
  create(name: string, request: CreateRequest, options: OllamaCreateOptions): Promise<unknown>;
  /** Pushes the stored model `name` to the registry its name points at; progress as for a pull. */
  push(name: string, options: OllamaPullOptions): Promise<void>;
}

export interface OllamaDeps extends InferenceDeps {
  catalog: OllamaCatalogPort;
  /** Largest blob POST /api/blobs accepts (the same limit as a model upload). Defaults to no limit. */
  maxUploadBytes?: number;
}

