/**
 * Pushes a stored model to a registry: every layer and the config as blobs (in parallel), then the
 * manifest bytes exactly as stored, so the model keeps its ID on the other side.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from '../log.js';
import type { Descriptor, Reference } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { parseImageManifest } from './artifact-manifest.js';
import { OCI_MANIFEST } from './media-types.js';
import { type ProgressListener, successEvent, TransferProgress } from './progress.js';
import type { CatalogRegistry } from './registry-port.js';

export interface PushDeps {
  store: ModelStore;
  registry: CatalogRegistry;
  logger: Logger;
}

export interface PushJob {
  id: string;
  target: Reference;
  /** Token sent instead of stored credentials. Defaults to none. */
  bearerToken?: string;
  emit: ProgressListener;
  signal?: AbortSignal;
}

export async function pushModel(deps: PushDeps, job: PushJob): Promise<void> {
  const { store, registry, logger } = deps;
  const bytes = await store.readManifest(job.id);
  const manifest = parseImageManifest(bytes, `model ${job.id}`);
  const auth = job.bearerToken ? { bearerToken: job.bearerToken } : undefined;
  const layers = unique(manifest.layers);
  const progress = new TransferProgress({ mode: 'push', total: layers.reduce((sum, l) => sum + l.size, 0), emit: job.emit });
  for (const layer of layers) progress.addLayer(layer.digest, layer.size);
  logger.info('pushing model', { id: job.id, target: job.target.canonical });

  const upload = (descriptor: Descriptor, onProgress?: (n: number) => void) =>
    registry.pushBlob(job.target, descriptor, () => createReadStream(store.blobPath(descriptor.digest)), {
      auth,
      onProgress,
      signal: job.signal,
    });
  const outcomes = await Promise.allSettled([
    ...layers.map(async (layer) => {
      await upload(layer, (n) => progress.update(layer.digest, n));
      progress.complete(layer.digest);
    }),
    upload(manifest.config),
  ]);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;

  await registry.pushManifest(job.target, bytes, manifest.mediaType ?? OCI_MANIFEST, auth);
  logger.info('pushed model', { id: job.id, target: job.target.canonical });
  job.emit(successEvent('Model pushed successfully', 'push'));
}

function unique(layers: Descriptor[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const layer of layers) if (!seen.has(layer.digest)) seen.set(layer.digest, layer);
  return [...seen.values()];
}
