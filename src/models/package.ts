/**
 * `package`: local files -> a model artifact in Docker's format (v0.1 config, one raw layer per
 * file), built as Docker's packager builds it so that the same files and creation time give the
 * same model ID here and there. Blobs go into the store; the manifest bytes are returned for the
 * caller (the catalog's import) to store under tags.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, isAppError } from '../errors.js';
import { describeModel, validateModelFile, type GgufFile } from '../gguf/index.js';
import type { Descriptor } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { sha256Digest } from '../util/digest.js';
import { isDiskFull } from '../util/disk-full.js';
import { createSilentLogger, type Logger } from '../log.js';
import { diskFilledUp } from './disk-full.js';
import { buildManifest } from './artifact-manifest.js';
import { addFileLayer } from './file-layer.js';
import { discoverShards } from './gguf-shards.js';
import { DOCKER_CHAT_TEMPLATE, DOCKER_CONFIG_V01, DOCKER_GGUF, DOCKER_LICENSE, DOCKER_MMPROJ } from './media-types.js';
import { buildDockerConfig } from './model-config.js';

export interface PackageModelOptions {
  /** The GGUF file, or any shard of a split model (its siblings are found by name). */
  ggufPath: string;
  /** License files, each its own layer, in this order. Defaults to none. */
  licensePaths?: string[];
  /** A Jinja chat template that overrides the one inside the GGUF. Defaults to none. */
  chatTemplatePath?: string;
  /** A multimodal projector GGUF. Defaults to none. */
  mmprojPath?: string;
  /** Context size recorded in the config; -1 means unlimited. Defaults to undefined (not recorded). */
  contextSize?: number;
  /** What a space error says this is ("package model.gguf", "load the uploaded model"). Defaults to "package <file name>". */
  what?: string;
  /** Hears where a full disk struck (paths included; they never reach the error). Defaults to a silent logger. */
  logger?: Logger;
  /**
   * Creation time written into the config and, in its place, as every file's mtime; a fixed value
   * makes packaging reproducible (same files -> same ID). Defaults to now, with real file mtimes.
   */
  created?: Date;
}

export interface PackagedModel {
  /** Raw manifest bytes; their sha256 is the model ID. Not yet stored. */
  manifestBytes: Buffer;
  /** `sha256:<hex>` of `manifestBytes`. */
  id: string;
  layers: Descriptor[];
  configDigest: string;
}

/**
 * Reads and checks a GGUF before it becomes a layer: a file llama.cpp would assert on must never
 * reach a Worker, where a native abort ends the whole process.
 */
async function validateGguf(file: string, role: string): Promise<GgufFile> {
  try {
    return await validateModelFile(file);
  } catch (err) {
    const code = isAppError(err) && err.code === 'unsupported' ? 'unsupported' : 'bad_request';
    const problem = err instanceof Error ? err.message : String(err);
    throw new AppError(code, `${role} ${file} cannot be packaged: ${problem}`, { cause: err });
  }
}

function checkContextSize(contextSize: number | undefined): void {
  if (contextSize === undefined) return;
  if (!Number.isInteger(contextSize) || (contextSize < 1 && contextSize !== -1) || contextSize > 2 ** 31 - 1) {
    throw new AppError('bad_request', `context size must be a positive integer (or -1 for unlimited), got ${contextSize}`);
  }
}

/** Builds the artifact: validates, streams every file into the store, writes the config blob, returns the manifest. */
export async function packageModel(store: ModelStore, options: PackageModelOptions): Promise<PackagedModel> {
  checkContextSize(options.contextSize);
  const ggufPath = path.resolve(options.ggufPath);
  const shards = await discoverShards(ggufPath);
  const infos = [];
  for (const shard of shards) infos.push(describeModel(await validateGguf(shard, 'model')));
  if (options.mmprojPath !== undefined) await validateGguf(path.resolve(options.mmprojPath), 'multimodal projector');
  // Hyper-parameters live in the first shard; each shard counts only its own tensors.
  const info = { ...infos[0]!, parameters: infos.reduce((sum, i) => sum + i.parameters, 0) };
  const mtime = options.created;
  const created = options.created ?? new Date();

  // Checked before the first byte is copied; a blob already stored is counted anyway (its digest is known only once copied).
  const files = [...shards, ...(options.licensePaths ?? []), options.mmprojPath, options.chatTemplatePath].filter((f) => f !== undefined).map((f) => path.resolve(f));
  const what = options.what ?? `package ${path.basename(ggufPath)}`;
  const neededBytes = await totalBytes(files);
  await store.ensureSpace(what, neededBytes);
  try {
    return await storeLayers(store, options, { shards, info, mtime, created });
  } catch (err) {
    // The copy that failed removed its own temp file; layers copied before it are blobs no model names.
    if (isDiskFull(err)) throw await diskFilledUp(store, options.logger ?? createSilentLogger(), what, neededBytes, err);
    throw err;
  }
}

interface LayerInputs {
  shards: string[];
  info: ReturnType<typeof describeModel>;
  mtime: Date | undefined;
  created: Date;
}

async function storeLayers(store: ModelStore, options: PackageModelOptions, inputs: LayerInputs): Promise<PackagedModel> {
  const { shards, info, mtime, created } = inputs;
  const layers: Descriptor[] = [];
  for (const shard of shards) layers.push(await addFileLayer(store, shard, DOCKER_GGUF, { mtime }));
  const totalSize = layers.reduce((sum, layer) => sum + layer.size, 0);
  for (const license of options.licensePaths ?? []) {
    layers.push(await addFileLayer(store, path.resolve(license), DOCKER_LICENSE, { mtime }));
  }
  if (options.mmprojPath !== undefined) {
    layers.push(await addFileLayer(store, path.resolve(options.mmprojPath), DOCKER_MMPROJ, { mtime }));
  }
  if (options.chatTemplatePath !== undefined) {
    layers.push(await addFileLayer(store, path.resolve(options.chatTemplatePath), DOCKER_CHAT_TEMPLATE, { mtime }));
  }

  const configBytes = buildDockerConfig({
    ggufInfo: info,
    totalSize,
    contextSize: options.contextSize,
    created,
    diffIds: layers.map((layer) => layer.digest),
  });
  const configDigest = await store.writeBlob(configBytes);
  const manifestBytes = buildManifest({ mediaType: DOCKER_CONFIG_V01, size: configBytes.length, digest: configDigest }, layers);
  return { manifestBytes, id: sha256Digest(manifestBytes), layers, configDigest };
}

/** Sum of the sizes of `files`; one that cannot be read counts 0 here and fails when it is copied. */
async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await fs.stat(file).catch(() => undefined))?.size ?? 0;
  return total;
}
