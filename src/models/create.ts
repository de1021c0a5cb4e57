/**
 * Ollama's `create`: a new model from GGUF blobs a client uploaded into the store, or from a
 * stored model with a new system prompt, parameters, messages or license. The result is a model
 * in Docker's format (v0.1 config, GGUF layers with Docker's file annotations) whose extras are
 * the small layers of model-extras.ts; blobs already in the store are used in place, never copied.
 * `num_ctx` becomes the config's `context_size`, the one context setting every API honours.
 */
import path from 'node:path';
import { AppError, isAppError } from '../errors.js';
import { describeModel, validateModelFile } from '../gguf/index.js';
import type { Descriptor } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { assertSha256Digest } from '../util/digest.js';
import { buildManifest, parseImageManifest } from './artifact-manifest.js';
import { fileLayerDescriptor } from './file-layer.js';
import { parseShardName } from './gguf-shards.js';
import { formatRfc3339, goJsonStringify } from './go-json.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF } from './media-types.js';
import { buildDockerConfig } from './model-config.js';
import { type ModelExtras, readModelExtras, replacedMediaTypes, writeExtraLayers } from './model-extras.js';

/** One uploaded file: the name the client gave it and the digest of its blob. */
export interface UploadedFile {
  name: string;
  digest: string;
}

export interface CreateModelSpec extends ModelExtras {
  /** GGUF blobs already in the store: one file, or every shard of a split model. Exclusive with `baseId`. */
  files?: UploadedFile[];
  /** ID of the stored model to start from. Exclusive with `files`. */
  baseId?: string;
  /** Creation time written into a new config and the layers' metadata. Defaults to now. */
  created?: Date;
  /** Told each step, in Ollama's words ("parsing GGUF", "using existing layer sha256:..."). Defaults to none. */
  onStatus?: (status: string) => void;
}

/** Orders the files as the shards of one model; a single file may have any name. */
export function orderGgufFiles(files: readonly UploadedFile[]): UploadedFile[] {
  if (files.length === 0) throw new AppError('bad_request', 'files is empty: name at least one uploaded GGUF file');
  if (files.length === 1) return [...files];
  const shards = files.map((file) => ({ file, shard: parseShardName(path.posix.basename(file.name)) }));
  const count = shards[0]!.shard?.count;
  const consistent = shards.every(({ shard }) => shard !== undefined && shard.count === count && shard.stem === shards[0]!.shard!.stem);
  if (!consistent || count !== files.length || new Set(shards.map(({ shard }) => shard!.index)).size !== count) {
    throw new AppError(
      'bad_request',
      `files names ${files.length} files, which are not the complete shards of one split GGUF model (named <stem>-0000k-of-0000N.gguf); a model is one GGUF file or all of its shards`,
    );
  }
  return shards.sort((a, b) => a.shard!.index - b.shard!.index).map(({ file }) => file);
}

/** Validates an uploaded blob as GGUF, naming it by the client's file name (the store's path stays private). */
async function describeBlob(store: ModelStore, file: UploadedFile) {
  const blobPath = store.blobPath(file.digest);
  try {
    return describeModel(await validateModelFile(blobPath));
  } catch (err) {
    const problem = (err instanceof Error ? err.message : String(err)).split(blobPath).join(file.name);
    const code = isAppError(err) && err.code === 'unsupported' ? 'unsupported' : 'bad_request';
    throw new AppError(code, `${file.name} (${file.digest}) is not a GGUF model this server can use: ${problem}`, { cause: err });
  }
}

/** A positive integer num_ctx, taken out of the parameters into the config. */
function takeContextSize(extras: ModelExtras): { contextSize?: number; extras: ModelExtras } {
  const parameters = extras.parameters;
  if (parameters === undefined || !('num_ctx' in parameters)) return { extras };
  const { num_ctx: numCtx, ...rest } = parameters;
  if (typeof numCtx !== 'number' || !Number.isSafeInteger(numCtx) || numCtx < 1) {
    throw new AppError('bad_request', `parameters.num_ctx must be a positive integer, got ${JSON.stringify(numCtx)}`);
  }
  return { contextSize: numCtx, extras: { ...extras, parameters: rest } };
}

async function fromFiles(store: ModelStore, spec: CreateModelSpec, files: UploadedFile[], created: Date): Promise<Buffer> {
  const status = spec.onStatus ?? (() => {});
  const { contextSize, extras } = takeContextSize(spec);
  status('parsing GGUF');
  const layers: Descriptor[] = [];
  const infos = [];
  for (const file of orderGgufFiles(files)) {
    assertSha256Digest(file.digest);
    const size = await store.blobSize(file.digest);
    if (size === undefined) {
      throw new AppError('bad_request', `blob ${file.digest} (${file.name}) is not on the server: upload it first with POST /api/blobs/${file.digest}`);
    }
    infos.push(await describeBlob(store, file));
    const name = path.posix.basename(file.name);
    layers.push(fileLayerDescriptor({ digest: file.digest, size, name, mode: 0o644, mtime: formatRfc3339(created) }, DOCKER_GGUF));
    status(`using existing layer ${file.digest}`);
  }
  // Hyper-parameters live in the first shard; each shard counts only its own tensors.
  const info = { ...infos[0]!, parameters: infos.reduce((sum, i) => sum + i.parameters, 0) };
  const totalSize = layers.reduce((sum, layer) => sum + layer.size, 0);
  const extraLayers = await writeExtraLayers(store, extras);
  for (const layer of extraLayers) status(`creating new layer ${layer.digest}`);
  const all = [...layers, ...extraLayers];
  const configBytes = buildDockerConfig({ ggufInfo: info, totalSize, contextSize, created, diffIds: all.map((l) => l.digest) });
  const configDigest = await store.writeBlob(configBytes);
  return buildManifest({ mediaType: DOCKER_CONFIG_V01, size: configBytes.length, digest: configDigest }, all);
}

/**
 * Docker's config with its layer list (and, when given, context size) brought up to date; other
 * configs (CNCF ModelPack) are kept as they are.
 */
async function updatedConfig(store: ModelStore, config: Descriptor, layers: Descriptor[], contextSize: number | undefined): Promise<Descriptor> {
  if (config.mediaType !== DOCKER_CONFIG_V01) return config;
  const json = JSON.parse((await store.readBlob(config.digest)).toString('utf8')) as Record<string, unknown>;
  const inner = typeof json.config === 'object' && json.config !== null ? (json.config as Record<string, unknown>) : {};
  if (contextSize !== undefined) inner.context_size = contextSize;
  json.config = inner;
  json.rootfs = { type: 'rootfs', diff_ids: layers.map((l) => l.digest) };
  const bytes = Buffer.from(goJsonStringify(json));
  return { mediaType: config.mediaType, size: bytes.length, digest: await store.writeBlob(bytes) };
}

async function fromModel(store: ModelStore, spec: CreateModelSpec, baseId: string): Promise<Buffer> {
  const status = spec.onStatus ?? (() => {});
  const base = parseImageManifest(await store.readManifest(baseId), `model ${baseId}`);
  const inherited = await readModelExtras(store, base);
  // New parameters are laid over the base model's, as Ollama merges them.
  const merged: ModelExtras = { ...spec, ...(spec.parameters === undefined ? {} : { parameters: { ...inherited.parameters, ...spec.parameters } }) };
  // Only Docker's v0.1 config is rewritten; with another, num_ctx stays a parameter (the Ollama routes still apply it).
  const { contextSize, extras } = base.config.mediaType === DOCKER_CONFIG_V01 ? takeContextSize(merged) : { contextSize: undefined, extras: merged };
  const replaced = replacedMediaTypes(extras);
  const kept = base.layers.filter((layer) => !replaced.has(layer.mediaType));
  for (const layer of kept) status(`using existing layer ${layer.digest}`);
  const extraLayers = await writeExtraLayers(store, extras);
  for (const layer of extraLayers) status(`creating new layer ${layer.digest}`);
  const layers = [...kept, ...extraLayers];
  const config = await updatedConfig(store, base.config, layers, contextSize);
  return buildManifest(config, layers);
}

/** Builds the new model's blobs and returns its manifest bytes (not yet stored under a name). */
export async function createModel(store: ModelStore, spec: CreateModelSpec): Promise<Buffer> {
  const created = spec.created ?? new Date();
  if (spec.files !== undefined && spec.baseId !== undefined) throw new AppError('bad_request', "give either 'from' or 'files', not both");
  if (spec.files !== undefined) return fromFiles(store, spec, spec.files, created);
  if (spec.baseId !== undefined) return fromModel(store, spec, spec.baseId);
  throw new AppError('bad_request', "neither 'from' or 'files' was specified");
}
