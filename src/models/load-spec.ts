/**
 * From a stored model to what the scheduler loads: the bundle on disk (hard links under the names
 * llama.cpp expects), a GGUF validated before llama.cpp ever opens it (a malformed file aborts the
 * whole process from inside native code), and the context sizes the model declares.
 */
import { AppError, isAppError } from '../errors.js';
import { describeModel, validateModelFile } from '../gguf/index.js';
import type { LoadSpec, ModelGeometry, ModelMode, RuntimeSettings } from '../engine/types.js';
import type { ModelStore } from '../store/types.js';
import { fileStampOf, type FileStamp } from '../util/file-stamp.js';
import { materializeBundle } from './bundle.js';
import type { ModelDetails } from './model-view.js';

export interface LoadSpecInput {
  id: string;
  /** The name the user asked for. */
  name: string;
  mode: ModelMode;
  details: ModelDetails;
  settings: RuntimeSettings;
}

/** What validation learnt about a model's GGUF that loading needs. */
export interface ValidatedGguf {
  /** `<arch>.context_length` of the first shard. */
  contextLength?: number;
  /** What sizes the KV cache, from the first shard; passed on so the scheduler need not read the header again. */
  geometry?: ModelGeometry;
  /** Tokens in the vocabulary, from the first shard: they size the logits buffer. */
  vocabularySize?: number;
  /** The first shard as it was when its check began: the engine's own check skips the same file unchanged. */
  firstShard?: FileStamp;
}

/**
 * Validates each model's GGUF once: a model ID names immutable bytes, so one successful check
 * holds for the life of the process. Failures are not remembered (the next load retries).
 */
export class GgufValidator {
  private readonly checked = new Map<string, Promise<ValidatedGguf>>();

  validate(id: string, shardPaths: string[]): Promise<ValidatedGguf> {
    const known = this.checked.get(id);
    if (known) return known;
    const pending = validateShards(id, shardPaths);
    this.checked.set(id, pending);
    pending.catch(() => this.checked.delete(id));
    return pending;
  }

  forget(id: string): void {
    this.checked.delete(id);
  }

  clear(): void {
    this.checked.clear();
  }
}

async function validateShards(id: string, shardPaths: string[]): Promise<ValidatedGguf> {
  let result: ValidatedGguf = {};
  for (const [i, shard] of shardPaths.entries()) {
    try {
      // Taken before the read: a file changed while it is checked then no longer matches it.
      const stamp = i === 0 ? await fileStampOf(shard) : undefined;
      const file = await validateModelFile(shard);
      // Only the first shard carries the hyper-parameters; the metadata is not kept (tokenizer arrays are large).
      if (i === 0) {
        const info = describeModel(file);
        result = { contextLength: positiveInt(info.contextLength), geometry: geometryOf(info), vocabularySize: positiveInt(info.vocabSize), firstShard: stamp };
      }
    } catch (err) {
      const problem = isAppError(err) || err instanceof Error ? err.message : String(err);
      throw new AppError('unsupported', `model ${id} cannot be loaded: ${problem}`, { cause: err });
    }
  }
  return result;
}

/** A load spec and the digest that names its weights (the admission check's key). */
export interface BuiltLoadSpec {
  spec: LoadSpec;
  weightsDigest: string;
}

export async function buildLoadSpec(store: ModelStore, validator: GgufValidator, input: LoadSpecInput): Promise<BuiltLoadSpec> {
  const { config } = input.details;
  if (config.format !== '' && config.format !== 'gguf') {
    throw new AppError('unsupported', `model ${input.name} is in ${config.format} format; only GGUF models can run here`);
  }
  const bundle = await materializeBundle(store, input.id);
  const validated = await validator.validate(input.id, bundle.shardPaths);

  // -1 means "unlimited" in Docker's config: no packaged limit, the trained context applies.
  const packaged = config.context_size !== undefined && config.context_size > 0 ? config.context_size : undefined;
  // The file is the authority; the config's copy of the key is the fallback for shards without it.
  const trainContextSize = validated.contextLength ?? positiveInt(config.gguf[`${config.architecture}.context_length`]);
  const spec: LoadSpec = {
    id: input.id,
    name: input.name,
    modelPath: bundle.modelPath,
    mode: input.mode,
    settings: input.settings,
    ...(packaged === undefined ? {} : { packagedContextSize: packaged }),
    ...(trainContextSize === undefined ? {} : { trainContextSize }),
    ...(validated.geometry === undefined ? {} : { geometry: validated.geometry }),
    ...(validated.vocabularySize === undefined ? {} : { vocabularySize: validated.vocabularySize }),
    // The engine checks the file again before llama.cpp opens it, unless it is this very file unchanged.
    ...(validated.firstShard === undefined ? {} : { firstLoadMemo: { validatedFile: validated.firstShard } }),
  };
  return { spec, weightsDigest: bundle.weightsDigest };
}

function geometryOf(info: ReturnType<typeof describeModel>): ModelGeometry | undefined {
  const { blockCount, embeddingLength, headCount, headCountKv } = info;
  if (!blockCount || !embeddingLength || !headCount) return undefined;
  return { blockCount, embeddingLength, headCount, ...(headCountKv ? { headCountKv } : {}) };
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' || typeof value === 'bigint' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
