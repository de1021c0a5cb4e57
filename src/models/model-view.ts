/**
 * The `Model` objects of `GET /models`: ID, tags, creation time and the normalised config. A
 * model's manifest and config never change (the ID is their hash), so what is read from disk is
 * cached per ID; only the tags are read fresh each time.
 */
import type { ImageManifest } from '../registry/types.js';
import type { IndexEntry, ModelStore } from '../store/types.js';
import { formatBinarySize } from '../util/units.js';
import { parseImageManifest } from './artifact-manifest.js';
import { classifyLayer } from './media-types.js';
import { type DockerModelConfig, parseModelConfig } from './model-config.js';

/** Docker Model Runner's `Model` (pkg/inference/models/api.go). */
export interface Model {
  id: string;
  tags: string[];
  /** Unix seconds from the config's descriptor; 0 when it records none. */
  created: number;
  config: DockerModelConfig;
}

/** What a model's manifest and config say, independent of its tags. */
export interface ModelDetails {
  manifest: ImageManifest;
  config: DockerModelConfig;
  created: number;
  /** Sum of the layer sizes. */
  layersSize: number;
}

/** Builds the details from a manifest and the bytes of its config blob. */
export function detailsFrom(manifest: ImageManifest, configBytes: Buffer, errorCode: 'upstream' | 'internal'): ModelDetails {
  const parsed = parseModelConfig(manifest.config.mediaType, configBytes, { digest: manifest.config.digest, errorCode });
  const layersSize = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  const config = { ...parsed.config };
  // ModelPack configs record no size; report the weights' bytes as Docker's adapter does.
  if (config.size === '') {
    const weights = manifest.layers.filter((l) => classifyLayer(l, config.format || undefined) === 'gguf');
    const bytes = (weights.length > 0 ? weights : manifest.layers).reduce((sum, l) => sum + l.size, 0);
    config.size = formatBinarySize(bytes);
  }
  return { manifest, config, created: parsed.created ?? 0, layersSize };
}

export class ModelViews {
  private readonly cache = new Map<string, Promise<ModelDetails>>();

  constructor(private readonly store: ModelStore) {}

  details(id: string): Promise<ModelDetails> {
    let pending = this.cache.get(id);
    if (!pending) {
      pending = this.load(id);
      this.cache.set(id, pending);
      // A failed read (model deleted meanwhile, disk error) is not remembered.
      pending.catch(() => this.cache.delete(id));
    }
    return pending;
  }

  async view(entry: IndexEntry): Promise<Model> {
    const details = await this.details(entry.id);
    return { id: entry.id, tags: [...entry.tags], created: details.created, config: details.config };
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  clear(): void {
    this.cache.clear();
  }

  private async load(id: string): Promise<ModelDetails> {
    const manifest = parseImageManifest(await this.store.readManifest(id), `model ${id}`);
    const configBytes = await this.store.readBlob(manifest.config.digest);
    return detailsFrom(manifest, configBytes, 'internal');
  }
}
