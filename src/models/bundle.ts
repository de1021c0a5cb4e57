/**
 * The runtime bundle of a model: hard links to its blobs under the names llama.cpp expects
 * (bundles/sha256/<id>/model/...), as Docker Model Runner lays them out. A sharded model must be on
 * disk as `model-0000k-of-0000N.gguf`, because llama.cpp finds shards 2..N by name from the first.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { sha256Digest } from '../util/digest.js';
import type { Descriptor } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { parseImageManifest } from './artifact-manifest.js';
import { shardFileName } from './gguf-shards.js';
import { classifyLayer, SUPPORTED_CONFIG_TYPES } from './media-types.js';
import { parseModelConfig } from './model-config.js';

export interface ModelBundle {
  /** The file to hand llama.cpp: the only GGUF, or the first shard. */
  modelPath: string;
  /** Every GGUF shard in order (one entry for an unsharded model). */
  shardPaths: string[];
  /** Names the weights: the GGUF blob's digest, or for shards the digest of their digests in order. */
  weightsDigest: string;
  mmprojPath?: string;
  chatTemplatePath?: string;
  /** The config's `format` ("gguf"), when the config could be read. */
  configFormat?: string;
}

/** The config's format decides what a CNCF raw weight is; an unreadable config leaves it undefined. */
async function readConfigFormat(store: ModelStore, config: Descriptor): Promise<string | undefined> {
  if (!SUPPORTED_CONFIG_TYPES.includes(config.mediaType)) return undefined;
  try {
    const bytes = await store.readBlob(config.digest);
    return parseModelConfig(config.mediaType, bytes, { digest: config.digest }).config.format || undefined;
  } catch {
    return undefined;
  }
}

/** Links `digest` to `destination` unless a file of the right size is already there (a previous run made it). */
async function ensureLink(store: ModelStore, layer: Descriptor, destination: string): Promise<void> {
  try {
    const st = await fs.stat(destination);
    if (st.isFile() && st.size === layer.size) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await store.linkBlob(layer.digest, destination);
}

/**
 * Creates (or reuses) the bundle of model `id` and returns the paths of its files. Idempotent and
 * safe to run twice at once: links are placed by rename.
 */
export async function materializeBundle(store: ModelStore, id: string): Promise<ModelBundle> {
  const manifest = parseImageManifest(await store.readManifest(id), `model ${id}`);
  const configFormat = await readConfigFormat(store, manifest.config);
  const ggufs: Descriptor[] = [];
  let mmproj: Descriptor | undefined;
  let template: Descriptor | undefined;
  for (const layer of manifest.layers) {
    switch (classifyLayer(layer, configFormat)) {
      case 'gguf':
        ggufs.push(layer);
        break;
      case 'mmproj':
        mmproj ??= layer;
        break;
      case 'chat-template':
        template ??= layer;
        break;
      default:
        break;
    }
  }
  if (ggufs.length === 0) {
    throw new AppError('unsupported', `model ${id} has no GGUF layer; only GGUF models can be run by this version of model-runner`);
  }

  const modelDir = path.join(store.bundleDir(id), 'model');
  const shardPaths =
    ggufs.length === 1
      ? [path.join(modelDir, 'model.gguf')]
      : ggufs.map((_, i) => path.join(modelDir, shardFileName('model', i + 1, ggufs.length)));
  for (let i = 0; i < ggufs.length; i++) await ensureLink(store, ggufs[i]!, shardPaths[i]!);

  const weightsDigest = ggufs.length === 1 ? ggufs[0]!.digest : sha256Digest(ggufs.map((l) => l.digest).join('\n'));
  const bundle: ModelBundle = { modelPath: shardPaths[0]!, shardPaths, weightsDigest };
  if (configFormat !== undefined) bundle.configFormat = configFormat;
  if (mmproj) {
    bundle.mmprojPath = path.join(modelDir, 'model.mmproj');
    await ensureLink(store, mmproj, bundle.mmprojPath);
  }
  if (template) {
    bundle.chatTemplatePath = path.join(modelDir, 'template.jinja');
    await ensureLink(store, template, bundle.chatTemplatePath);
  }
  return bundle;
}
