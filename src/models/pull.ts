/**
 * Pulls one model from a registry into the store: manifest, config check, the layers a few at a
 * time (resuming partial files), then config, manifest and tag in one store write. Nothing becomes
 * visible as a model until every blob is present and verified.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Descriptor, Reference, ResolvedManifest } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { assertSha256Digest } from '../util/digest.js';
import { isDiskFull } from '../util/disk-full.js';
import { diskFilledUp, markDiskFull } from './disk-full.js';
import { Semaphore } from '../util/semaphore.js';
import { SUPPORTED_CONFIG_TYPES } from './media-types.js';
import { detailsFrom, type ModelDetails } from './model-view.js';
import { type ProgressListener, successEvent, TransferProgress } from './progress.js';
import type { CatalogRegistry } from './registry-port.js';

export interface PullDeps {
  store: ModelStore;
  registry: CatalogRegistry;
  logger: Logger;
  /** Told how many new bytes arrived, for metrics. Defaults to none. */
  onPullBytes?: (bytes: number) => void;
  /** Layers downloading at once. Defaults to DEFAULT_LAYER_CONCURRENCY (4). */
  layerConcurrency?: number;
}

/**
 * Layers downloading at once in one pull. A large layer already opens several connections of its
 * own (chunked download), so more layers at once add sockets and open files, not speed; and a
 * manifest listing many layers must not open them all together.
 */
export const DEFAULT_LAYER_CONCURRENCY = 4;

export interface PullJob {
  ref: Reference;
  /** Token sent instead of stored credentials. Defaults to none. */
  bearerToken?: string;
  emit: ProgressListener;
  signal: AbortSignal;
  /** Runs once the model is stored, before success is reported; its error fails the pull. Defaults to none. */
  beforeSuccess?: (id: string) => Promise<void>;
}

export interface PullResult {
  id: string;
  /** True when the manifest was already stored and only the tag was added. */
  cached: boolean;
}

export async function pullModel(deps: PullDeps, job: PullJob): Promise<PullResult> {
  const { store, registry, logger } = deps;
  const { ref, signal } = job;
  const auth = job.bearerToken ? { bearerToken: job.bearerToken } : undefined;
  const resolved = await registry.resolveManifest(ref, auth, signal);
  const { manifest } = resolved;
  validateDescriptors(resolved);

  const existing = await store.getModel(resolved.digest);
  if (existing) {
    await store.addTag(resolved.digest, ref.canonical);
    const size = await cachedSize(store, resolved);
    await job.beforeSuccess?.(resolved.digest);
    job.emit(successEvent(`Using cached model: ${size}`, 'pull'));
    return { id: resolved.digest, cached: true };
  }

  // Refused before a single layer byte moves: a newer artifact type we cannot run is a 422.
  if (!SUPPORTED_CONFIG_TYPES.includes(manifest.config.mediaType)) {
    throw new AppError('unsupported', `config type "${manifest.config.mediaType}" is not supported by this version of model-runner; try upgrading`);
  }
  // Refused before a byte is written when it cannot fit; what partials already hold counts as done.
  const layers = uniqueLayers(manifest.layers);
  const needs = [manifest.config, ...layers].map((d) => ({ digest: d.digest, size: d.size }));
  const what = `pull ${ref.canonical}`;
  await store.ensureSpace(what, await store.missingBytes(needs));
  const release = store.claimDownloads(needs.map((n) => n.digest));
  const committed = new Set<string>();
  try {
    return await downloadAndStore(deps, job, resolved, layers, committed);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    // The estimate was wrong (another writer was faster): leave the disk as it was before the
    // pull. Its partials go too, since resuming them would need the same space again.
    await store.discardDownloads(needs.map((n) => n.digest), [...committed]);
    throw await diskFilledUp(store, logger, what, await store.missingBytes(needs), err);
  } finally {
    release();
  }
}

async function downloadAndStore(deps: PullDeps, job: PullJob, resolved: ResolvedManifest, layers: Descriptor[], committed: Set<string>): Promise<PullResult> {
  const { store, logger } = deps;
  const { ref, signal } = job;
  const { manifest } = resolved;
  const configBytes = await fetchConfig(deps, job, manifest.config);
  detailsFrom(manifest, configBytes, 'upstream');

  const progress = new TransferProgress({ mode: 'pull', total: layers.reduce((sum, l) => sum + l.size, 0), emit: job.emit });
  for (const layer of layers) progress.addLayer(layer.digest, layer.size);
  logger.info('pulling model', { reference: ref.canonical, id: resolved.digest, layers: layers.length });

  // Every layer runs to its own end even when a sibling fails, so that no download is still
  // writing its partial file when the error reaches the caller; after a failure the layers still
  // waiting for a slot do not start.
  const slots = new Semaphore(Math.max(1, deps.layerConcurrency ?? DEFAULT_LAYER_CONCURRENCY));
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const outcomes = await Promise.allSettled(
    layers.map((layer) =>
      slots.use(() => pullLayer(deps, job, layer, progress, committed).catch((err: unknown) => {
        stop.abort();
        throw err;
      }), stop.signal),
    ),
  ).finally(() => signal.removeEventListener('abort', onAbort));
  // The first real failure, not the 'aborted' of layers that never got a slot because of it.
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
  const failure = failures.find((e) => !(e instanceof AppError && e.code === 'aborted' && !signal.aborted)) ?? failures[0];
  if (failure !== undefined) throw failure;

  await store.writeBlob(configBytes, manifest.config.digest);
  const id = await store.writeModel(resolved.bytes, [ref.canonical]);
  logger.info('pulled model', { reference: ref.canonical, id });
  await job.beforeSuccess?.(id);
  job.emit(successEvent('Model pulled successfully', 'pull'));
  return { id, cached: false };
}

async function pullLayer(deps: PullDeps, job: PullJob, layer: Descriptor, progress: TransferProgress, committed: Set<string>): Promise<void> {
  const { store, registry } = deps;
  if (await store.hasBlob(layer.digest)) {
    progress.complete(layer.digest);
    return;
  }
  const partial = store.partialPath(layer.digest);
  let counted = await fileSize(partial);
  try {
    await registry.downloadBlob(job.ref, layer, partial, {
      bearerToken: job.bearerToken,
      signal: job.signal,
      chunksPath: store.partialChunksPath(layer.digest),
      onProgress: (bytesDone) => {
        if (bytesDone > counted) {
          deps.onPullBytes?.(bytesDone - counted);
          counted = bytesDone;
        }
        progress.update(layer.digest, bytesDone);
      },
    });
    if (layer.size > counted) deps.onPullBytes?.(layer.size - counted);
    await store.commitPartial(layer.digest, { verified: true, size: layer.size });
  } catch (err) {
    throw markDiskFull(err, layer.digest);
  }
  committed.add(layer.digest);
  progress.complete(layer.digest);
}

/** The config blob is small: it is downloaded, parsed and only then stored, with the model. */
async function fetchConfig(deps: PullDeps, job: PullJob, descriptor: Descriptor): Promise<Buffer> {
  const { store, registry } = deps;
  if (await store.hasBlob(descriptor.digest)) return store.readBlob(descriptor.digest);
  const partial = store.partialPath(descriptor.digest);
  try {
    await registry.downloadBlob(job.ref, descriptor, partial, { bearerToken: job.bearerToken, signal: job.signal });
    return await fs.readFile(partial);
  } catch (err) {
    throw markDiskFull(err, descriptor.digest);
  } finally {
    await store.removePartial(descriptor.digest);
  }
}

function validateDescriptors(resolved: ResolvedManifest): void {
  const { manifest } = resolved;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new AppError('upstream', `manifest ${resolved.digest} has no config or layers`);
  }
  // Digests name files in the store: a hostile manifest must not walk out of it.
  for (const d of [manifest.config, ...manifest.layers]) {
    assertSha256Digest(d.digest, 'digest in manifest');
    if (!Number.isSafeInteger(d.size) || d.size < 0) throw new AppError('upstream', `manifest ${resolved.digest} has a bad size for ${d.digest}`);
  }
  if (manifest.layers.length === 0) throw new AppError('upstream', `manifest ${resolved.digest} has no layers`);
}

function uniqueLayers(layers: Descriptor[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const layer of layers) if (!seen.has(layer.digest)) seen.set(layer.digest, layer);
  return [...seen.values()];
}

/** "Using cached model: <config size>", the size text as the stored config spells it. */
async function cachedSize(store: ModelStore, resolved: ResolvedManifest): Promise<string> {
  try {
    const details: ModelDetails = detailsFrom(resolved.manifest, await store.readBlob(resolved.manifest.config.digest), 'internal');
    return details.config.size;
  } catch {
    return '';
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}
