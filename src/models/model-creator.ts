/**
 * The catalog's part for Ollama's create: uploaded blobs, models made from them or from a stored
 * model, and the extras those carry. The catalog composes it (`catalog.creator`) and lends it what
 * it owns: the store, name resolution, the model views and the admission check on arrival.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Reference } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { assertSha256Digest } from '../util/digest.js';
import { type BlobUpload, receiveBlob } from './blob-upload.js';
import { createModel, type CreateModelSpec } from './create.js';
import { type ModelExtras, readModelExtras } from './model-extras.js';
import type { ModelDetails } from './model-view.js';
import type { ProgressListener } from './progress.js';
import type { ResolvedModel } from './resolve.js';

/** What `create` builds a model from: uploaded GGUF blobs or a stored model, and the extras to set. */
export interface CreateRequest extends Omit<CreateModelSpec, 'baseId' | 'onStatus' | 'created'> {
  /** The stored model to start from (any name the catalog resolves). Exclusive with `files`. Defaults to none. */
  from?: string;
}

/** What the catalog lends the creator. */
export interface ModelCreatorParts {
  store: ModelStore;
  logger: Logger;
  resolve(name: string): Promise<ResolvedModel>;
  parseReference(text: string): Reference;
  details(id: string): Promise<ModelDetails>;
  /** The admission check a model gets when it arrives; a refusal is a warning event, never a failure. */
  admit(id: string, name: string, emit?: ProgressListener): Promise<void>;
}

export class ModelCreator {
  constructor(private readonly parts: ModelCreatorParts) {}

  /** Whether the store holds the blob `digest`; throws bad_request for a malformed digest. */
  hasBlob(digest: string): Promise<boolean> {
    return this.parts.store.hasBlob(assertSha256Digest(digest));
  }

  /** Stores a client's upload of one blob, verified against its digest; false when the store already held it. */
  receiveBlob(upload: BlobUpload): Promise<boolean> {
    return receiveBlob(this.parts.store, this.parts.logger, upload);
  }

  /**
   * Creates a model from uploaded GGUF blobs or from a stored model with new extras, and tags it
   * `name` (moving the tag off any model that held it). Steps arrive as 'progress' events.
   */
  async create(name: string, request: CreateRequest, options: { onEvent?: ProgressListener } = {}): Promise<{ id: string; tag: string }> {
    const target = this.parts.parseReference(name);
    if (target.digest !== undefined || target.tag === undefined) {
      throw new AppError('invalid_reference', `invalid model name ${JSON.stringify(name)}: a created model needs a name with a tag, not a digest`);
    }
    const emit = options.onEvent;
    const { from, ...spec } = request;
    const baseId = from === undefined ? undefined : (await this.parts.resolve(from)).id;
    const manifestBytes = await createModel(this.parts.store, {
      ...spec,
      ...(baseId === undefined ? {} : { baseId }),
      onStatus: (message) => emit?.({ type: 'progress', message }),
    });
    emit?.({ type: 'progress', message: 'writing manifest' });
    const id = await this.parts.store.writeModel(manifestBytes, [target.canonical]);
    await this.parts.admit(id, target.canonical, emit);
    return { id, tag: target.canonical };
  }

  /** The system prompt, parameters, messages and licenses model `name` carries beside its weights. */
  async extras(name: string): Promise<ModelExtras> {
    const { id } = await this.parts.resolve(name);
    return readModelExtras(this.parts.store, (await this.parts.details(id)).manifest);
  }
}
