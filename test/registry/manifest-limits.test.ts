/**
 * What a hostile manifest may ask of a pull: a bounded number of layers, a config blob small
 * enough to hold in memory (judged by its descriptor before a byte is fetched), and never more
 * bytes than a descriptor announced. And what a hostile manifest cannot do at all: hash to other
 * than the digest it was asked by, be other than a JSON object, carry descriptors whose digest
 * or size is not one, exceed the size cap, or lead through an index into another index. Each is
 * a clear error before any blob is fetched, and the store stays empty.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { AppError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/log.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_INDEX, OCI_MANIFEST } from '../../src/models/media-types.js';
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
  /** Served for a manifest request unless `manifests` has an answer for its reference. */
  let manifest: Buffer = Buffer.alloc(0);
  /** Answers by reference (tag or digest), for indexes and the manifests they point at. */
  const manifests = new Map<string, (res: ServerResponse) => void>();
  const blobRequests = (): number => registry.requests.filter((r) => r.path.includes('/blobs/')).length;
  const manifestRequests = (): number => registry.requests.filter((r) => r.path.includes('/manifests/')).length;

  before(async () => {
    registry = await startScriptedRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        const answer = manifests.get(req.url.slice(req.url.indexOf('/manifests/') + '/manifests/'.length));
        if (answer) answer(res);
        else res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }).end(manifest);
      } else if (req.url?.endsWith(sha256Digest(LAYER))) {
        // A server that sends more than the descriptor said.
        res.writeHead(200, { 'content-length': LAYER.length }).end(LAYER);
      } else res.writeHead(404).end();
    });
    temp = await openTempStore('manifest-limits');
    client = new RegistryClient({ retries: 0 });
  });
  beforeEach(() => {
    manifests.clear();
    registry.requests.length = 0;
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
  /** Pulls `reference` and expects it refused before any blob is fetched, with nothing in the store. */
  async function refusedPull(reference: string, code: string, message: RegExp): Promise<void> {
    const catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger() });
    await assert.rejects(catalog.pull(`${registry.url}/${reference}`), (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
    assert.equal(blobRequests(), 0, 'no blob was fetched');
    assert.deepEqual(await temp.store.listModels(), []);
    const stored = await fs.readdir(path.join(temp.dir, 'models', 'blobs'), { recursive: true, withFileTypes: true });
    assert.deepEqual(stored.filter((e) => e.isFile()).map((e) => e.name), [], 'the store holds no blob');
  }
  const valid = (): Buffer => manifestOf({ size: CONFIG.length, digest: sha256Digest(CONFIG) }, 1);
  const serve = (body: Buffer, headers: Record<string, string | number> = {}) => (res: ServerResponse) =>
    void res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': body.length, ...headers }).end(body);

  test('a manifest pulled by digest whose bytes hash to another digest is refused as a digest mismatch', async () => {
    const asked = sha256Digest(Buffer.from('the manifest that was meant'));
    manifests.set(asked, serve(valid()));
    await refusedPull(`ai/pinned@${asked}`, 'digest_mismatch', new RegExp(`received bytes hash to ${sha256Digest(valid())}, expected ${asked}`));
  });

  test('a manifest whose Docker-Content-Digest names other bytes is refused as a digest mismatch', async () => {
    const claimed = sha256Digest(Buffer.from('other bytes'));
    manifests.set('claims', serve(valid(), { 'docker-content-digest': claimed }));
    await refusedPull('ai/claims:claims', 'digest_mismatch', new RegExp(`expected ${claimed}`));
  });

  test('a manifest that is not JSON, or JSON but not an object, is refused saying which', async () => {
    manifests.set('html', serve(Buffer.from('<html><body>Sign in to continue</body></html>'), { 'content-type': 'text/html' }));
    await refusedPull('ai/portal:html', 'upstream', /manifest html on registry .* is not a usable manifest: the body is not JSON/);
    manifests.set('array', serve(Buffer.from('[1, 2, 3]')));
    await refusedPull('ai/portal:array', 'upstream', /is not a usable manifest: the body is not a JSON object/);
  });

  for (const [what, digest, pattern] of [
    ['a path', 'sha256:../../../../etc/passwd', /layer 0 has digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd", expected sha256:<64 hex>/],
    ['another algorithm', `md5:${'0'.repeat(32)}`, /layer 0 has digest "md5:0{32}", expected sha256:<64 hex>/],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`, /layer 0 has digest "sha256:A{64}"/],
    ['a number', 42, /layer 0 has digest 42/],
  ] as const) {
    test(`a layer descriptor whose digest is ${what} is refused before anything is fetched`, async () => {
      const body = Buffer.from(JSON.stringify({ ...JSON.parse(valid().toString()), layers: [{ mediaType: DOCKER_GGUF, digest, size: 10 }] }));
      manifests.set('bad-digest', serve(body));
      await refusedPull('ai/bad-digest:bad-digest', 'upstream', pattern);
    });
  }

  test('a config descriptor whose digest is not sha256 is refused too', async () => {
    const body = Buffer.from(JSON.stringify({ ...JSON.parse(valid().toString()), config: { mediaType: DOCKER_CONFIG_V01, digest: 'sha256:short', size: 10 } }));
    manifests.set('bad-config', serve(body));
    await refusedPull('ai/bad-config:bad-config', 'upstream', /config has digest "sha256:short", expected sha256:<64 hex>/);
  });

  for (const [what, size, shown] of [
    ['negative', -1, '-1'],
    ['fractional', 1.5, '1.5'],
    ['beyond 2^53', 2 ** 64, '18446744073709552000'],
    ['a string', '100', '"100"'],
  ] as const) {
    test(`a layer descriptor whose size is ${what} is refused naming the size`, async () => {
      const body = Buffer.from(JSON.stringify({ ...JSON.parse(valid().toString()), layers: [{ mediaType: DOCKER_GGUF, digest: sha256Digest(LAYER), size }] }));
      manifests.set('bad-size', serve(body));
      await refusedPull('ai/bad-size:bad-size', 'upstream', new RegExp(`layer 0 has size ${shown.replace(/[.^]/g, '\\$&')}, expected a whole number of bytes from 0 to 2\\^53 - 1`));
    });
  }

  test('a manifest over the 4 MiB cap is refused, whether its Content-Length says so or it just keeps coming', async () => {
    const big = Buffer.concat([valid().subarray(0, -1), Buffer.from(`,"annotations":{"x":"${'x'.repeat(4 * 1024 * 1024)}"}}`)]);
    manifests.set('declared', serve(big));
    await refusedPull('ai/big:declared', 'upstream', new RegExp(`is ${big.length} bytes, more than the 4194304 allowed`));
    manifests.set('streamed', (res) => {
      // No Content-Length: the body is sent chunked and only its size while it arrives can tell.
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      res.write(big.subarray(0, 1024 * 1024));
      res.end(big.subarray(1024 * 1024));
    });
    await refusedPull('ai/big:streamed', 'upstream', /is more than the 4194304 bytes allowed/);
  });

  test('an index whose entries are all indexes is refused without following them', async () => {
    const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: sha256Digest(nested), size: nested.length }] }));
    manifests.set('nested', serve(index, { 'content-type': OCI_INDEX }));
    manifests.set(sha256Digest(nested), serve(nested, { 'content-type': OCI_INDEX }));
    await refusedPull('ai/nested:nested', 'upstream', /the index lists only other indexes, which are not followed/);
    assert.equal(manifestRequests(), 1, 'the nested index was not fetched');
  });

  test('an index entry that claims to be a manifest but is another index is refused after one level', async () => {
    const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256Digest(valid()), size: valid().length }] }));
    const outer = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256Digest(inner), size: inner.length }] }));
    manifests.set('disguised', serve(outer, { 'content-type': OCI_INDEX }));
    manifests.set(sha256Digest(inner), serve(inner, { 'content-type': OCI_INDEX }));
    await refusedPull('ai/disguised:disguised', 'upstream', new RegExp(`manifest ${sha256Digest(inner)} .* an index entry points at another index`));
    assert.equal(manifestRequests(), 2, 'two levels fetched, no third');
  });

  test('an index entry whose bytes hash to another digest than the index names is refused as a digest mismatch', async () => {
    const named = sha256Digest(Buffer.from('what the index promised'));
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: named, size: valid().length }] }));
    manifests.set('swapped', serve(index, { 'content-type': OCI_INDEX }));
    manifests.set(named, serve(valid()));
    await refusedPull('ai/swapped:swapped', 'digest_mismatch', new RegExp(`expected ${named}`));
  });
});
