/** Real temp stores and small hand-built artifacts for the artifact-format tests. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Descriptor } from '../../src/registry/types.js';
import { openStore, type ModelStore } from '../../src/store/index.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF } from '../../src/models/media-types.js';
import { buildDockerConfig } from '../../src/models/model-config.js';
import { buildManifest } from '../../src/models/artifact-manifest.js';

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** Opens a store in a fresh temp directory; `cleanup` closes it and removes the directory. */
export async function tempStore(prefix = 'mr-store'): Promise<{ store: ModelStore; root: string; cleanup: () => Promise<void> }> {
  const root = await tempDir(prefix);
  const store = await openStore(root);
  return {
    store,
    root,
    cleanup: async () => {
      await store.close();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

export interface HandBuiltLayer {
  bytes: Buffer;
  mediaType?: string;
  filepath?: string;
}

/**
 * Stores a model whose layers are the given bytes (GGUF media type unless stated) with a v0.1
 * config, and returns its ID and layer descriptors. The bytes need not be real GGUF: nothing
 * here parses them.
 */
export async function storeHandBuiltModel(store: ModelStore, layers: HandBuiltLayer[], tags: string[] = []): Promise<{ id: string; layers: Descriptor[]; configDigest: string }> {
  const descriptors: Descriptor[] = [];
  for (const layer of layers) {
    const digest = await store.writeBlob(layer.bytes);
    const d: Descriptor = { mediaType: layer.mediaType ?? DOCKER_GGUF, size: layer.bytes.length, digest };
    if (layer.filepath) d.annotations = { 'org.cncf.model.filepath': layer.filepath };
    descriptors.push(d);
  }
  const config = buildDockerConfig({
    ggufInfo: { architecture: 'llama', parameters: 1000, quantization: 'Q8_0', kv: {} },
    totalSize: layers.reduce((n, l) => n + l.bytes.length, 0),
    created: new Date(0),
    diffIds: descriptors.map((d) => d.digest),
  });
  const configDigest = await store.writeBlob(config);
  const manifest = buildManifest({ mediaType: DOCKER_CONFIG_V01, size: config.length, digest: configDigest }, descriptors);
  const id = await store.writeModel(manifest, tags);
  return { id, layers: descriptors, configDigest };
}
