/**
 * A pull downloads its layers a few at a time, not all at once. The real client fetches the
 * manifest and config from a scripted registry; the layer downloads are held open until the pull
 * is cancelled, and once the pull has settled the test counts how many it had started.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/log.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import type { CatalogRegistry } from '../../src/models/index.js';
import { DEFAULT_LAYER_CONCURRENCY, pullModel } from '../../src/models/pull.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { openTempStore, type TempStore } from '../support/catalog-fixtures.js';
import { startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

const LAYER_COUNT = DEFAULT_LAYER_CONCURRENCY * 3;
const CONFIG = Buffer.from(JSON.stringify({ config: { format: 'gguf', size: '1KiB' } }));
const LAYERS = Array.from({ length: LAYER_COUNT }, (_, i) => Buffer.from(`layer ${i}`));
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: DOCKER_CONFIG_V01, digest: sha256Digest(CONFIG), size: CONFIG.length },
    layers: LAYERS.map((l) => ({ mediaType: DOCKER_GGUF, digest: sha256Digest(l), size: l.length })),
  }),
);

describe('layers of one pull download through a bounded number of slots', () => {
  let registry: ScriptedRegistry;
  let temp: TempStore;
  let client: RegistryClient;

  before(async () => {
    registry = await startScriptedRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': MANIFEST.length }).end(MANIFEST);
      else if (req.url?.endsWith(sha256Digest(CONFIG))) res.writeHead(200, { 'content-length': CONFIG.length }).end(CONFIG);
      else res.writeHead(404).end();
    });
    temp = await openTempStore('layer-slots');
    client = new RegistryClient({ retries: 0 });
  });
  after(async () => {
    client.dispose();
    await temp.dispose();
    await registry.close();
  });

  test(`a manifest of ${LAYER_COUNT} layers starts only ${DEFAULT_LAYER_CONCURRENCY} downloads while they are all still running`, async () => {
    const started: string[] = [];
    let slotsFull!: () => void;
    const full = new Promise<void>((resolve) => (slotsFull = resolve));
    const holding: CatalogRegistry = {
      resolveManifest: (ref, auth, signal) => client.resolveManifest(ref, auth, signal),
      downloadBlob: async (ref, descriptor, partialPath, options) => {
        if (descriptor.digest === sha256Digest(CONFIG)) return client.downloadBlob(ref, descriptor, partialPath, options);
        started.push(descriptor.digest);
        if (started.length === DEFAULT_LAYER_CONCURRENCY) slotsFull();
        // Held until the pull is cancelled, like a layer still on its way.
        const signal = options!.signal!;
        await new Promise((_, reject) => {
          const cancel = (): void => reject(new AppError('aborted', 'cancelled'));
          if (signal.aborted) cancel();
          else signal.addEventListener('abort', cancel, { once: true });
        });
      },
      pushBlob: () => Promise.reject(new Error('not used')),
      pushManifest: () => Promise.reject(new Error('not used')),
    };
    const controller = new AbortController();
    // pullModel itself (not the catalog, whose callers may leave before the work ends): it settles
    // only once every layer it started has ended.
    const pull = pullModel(
      { store: temp.store, registry: holding, logger: createSilentLogger() },
      { ref: parseReference(`${registry.url}/ai/many-layers:latest`), emit: () => undefined, signal: controller.signal },
    );
    await full;
    controller.abort();
    await assert.rejects(pull, (err: unknown) => err instanceof AppError && err.code === 'aborted');
    assert.equal(started.length, DEFAULT_LAYER_CONCURRENCY, `started: ${started.length} of ${LAYER_COUNT}`);
  });
});
