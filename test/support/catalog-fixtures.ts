/**
 * Small stored models for catalog tests: a real store in a temp directory, and artifacts made of
 * a config blob and a few bytes of layer, written through the store's own API.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { ModelStore } from '../../src/store/types.js';

export interface TempStore {
  store: ModelStore;
  dir: string;
  dispose(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `mr-${prefix}-`));
}

export async function openTempStore(prefix = 'catalog'): Promise<TempStore> {
  const dir = await makeTempDir(prefix);
  const store = await openStore(path.join(dir, 'models'));
  return {
    store,
    dir,
    async dispose() {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FakeModelOptions {
  /** Bytes of the single layer; different bytes make a different model. */
  layer: string;
  tags: string[];
  /** Config media type. Defaults to Docker's v0.1. */
  configMediaType?: string;
  /** descriptor.created in the config. Defaults to 2025-04-01T12:00:00Z. */
  created?: string;
}

/** Stores a model whose layer is not a real GGUF (enough for naming, listing and deleting). */
export async function storeFakeModel(store: ModelStore, options: FakeModelOptions): Promise<string> {
  const layerDigest = await store.writeBlob(Buffer.from(options.layer));
  const config = Buffer.from(
    JSON.stringify({
      config: { format: 'gguf', quantization: 'Q8_0', parameters: '1.00K', architecture: 'llama', size: '1.00KiB', gguf: { 'llama.context_length': '256' } },
      descriptor: { created: options.created ?? '2025-04-01T12:00:00Z' },
      rootfs: { type: 'rootfs', diff_ids: [layerDigest] },
    }),
  );
  const configDigest = await store.writeBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: options.configMediaType ?? 'application/vnd.docker.ai.model.config.v0.1+json', size: config.length, digest: configDigest },
      layers: [{ mediaType: 'application/vnd.docker.ai.gguf.v3', size: Buffer.byteLength(options.layer), digest: layerDigest }],
    }),
  );
  return store.writeModel(manifest, options.tags);
}
