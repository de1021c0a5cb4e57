/**
 * What a hostile manifest may ask of a pull: a bounded number of layers, a config blob small
 * enough to hold in memory (judged by its descriptor before a byte is fetched), and never more
 * bytes than a descriptor announced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { AppError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/log.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import { Catalog } from '../../src/models/index.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { openTempStore, type TempStore } from '../support/catalog-fixtures.js';
import { startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

const CONFIG = Buffer.from(JSON.stringify({ config: { format: 'gguf' } }));
const LAYER = Buffer.from('GGUF layer of a hostile manifest');

function manifestOf(config: { size: number; digest: string }, layerCount: number, layerSize = LAYER.length): Buffer {
  const layer = { mediaType: DOCKER_GGUF, digest: sha256Digest(LAYER), size: layerSize };
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: DOCKER_CONFIG_V01, ...config }, layers: Array.from({ length: layerCount }, () => layer) }));
}

describe('limits on what a manifest may ask of a pull', () => {
  let registry: ScriptedRegistry;
  let temp: TempStore;
  let client: RegistryClient;
  /** Served for every manifest request. */
  let manifest = Buffer.alloc(0);
  const blobRequests = (): number => registry.requests.filter((r) => r.path.includes('/blobs/')).length;

  before(async () => {
    registry = await startScriptedRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }).end(manifest);
      } else if (req.url?.endsWith(sha256Digest(LAYER))) {
        // A server that sends more than the descriptor said.
        res.writeHead(200, { 'content-length': LAYER.length }).end(LAYER);
      } else res.writeHead(404).end();
    });
    temp = await openTempStore('manifest-limits');
    client = new RegistryClient({ retries: 0 });
  });
  after(async () => {
    client.dispose();
    await temp.dispose();
    await registry.close();
  });

  test('a manifest listing more than 256 layers is refused with a message saying so', async () => {
    manifest = manifestOf({ size: CONFIG.length, digest: sha256Digest(CONFIG) }, 257);
    registry.requests.length = 0;
    await assert.rejects(client.resolveManifest(parseReference(`${registry.url}/ai/many:latest`)), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
      assert.match(err.message, /lists 257 layers, more than the 256 allowed/);
      return true;
    });
    assert.equal(blobRequests(), 0);
  });

  test('a manifest of exactly 256 layers is accepted', async () => {
    manifest = manifestOf({ size: CONFIG.length, digest: sha256Digest(CONFIG) }, 256);
    const resolved = await client.resolveManifest(parseReference(`${registry.url}/ai/many:latest`));
    assert.equal(resolved.manifest.layers.length, 256);
  });

  test('a config blob over 4 MiB is refused by its descriptor before any blob is fetched, for a pull', async () => {
    manifest = manifestOf({ size: 4 * 1024 * 1024 + 1, digest: sha256Digest(CONFIG) }, 1);
    registry.requests.length = 0;
    const catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger() });
    await assert.rejects(catalog.pull(`${registry.url}/ai/big-config:latest`), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
      assert.match(err.message, /config blob is 4194305 bytes, more than the 4194304 bytes \(4 MiB\) allowed/);
      return true;
    });
    assert.equal(blobRequests(), 0);
  });

  test('and for a look at the remote model', async () => {
    manifest = manifestOf({ size: 64 * 1024 * 1024, digest: sha256Digest(CONFIG) }, 1);
    registry.requests.length = 0;
    const catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger() });
    await assert.rejects(catalog.getRemote(`${registry.url}/ai/big-config:latest`), /config blob is 67108864 bytes, more than/);
    assert.equal(blobRequests(), 0);
  });

  test('a server that sends more bytes than the descriptor announced is cut off at the announced size', async () => {
    const ref = parseReference(`${registry.url}/ai/liar:latest`);
    const descriptor = { mediaType: DOCKER_GGUF, digest: sha256Digest(LAYER), size: 8 };
    await assert.rejects(client.downloadBlob(ref, descriptor, path.join(temp.dir, 'liar.partial')), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'digest_mismatch', String(err));
      return true;
    });
  });
});
