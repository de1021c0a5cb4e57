import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { CNCF_MANIFEST_ARTIFACT, OCI_INDEX, OCI_MANIFEST } from '../../src/models/media-types.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

/** The chunk record the caller keeps next to a partial (the store does the same). */
const chunksOf = (partial: string): string => `${partial}.chunks`;

function isAppError(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('push and pull against an anonymous registry', () => {
  let registry: TestRegistry;
  let dir: string;
  const client = new RegistryClient({ retries: 1, retryDelayMs: 10 });
  before(async () => {
    registry = await startRegistry('anonymous');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-push-pull-'));
  });
  after(async () => {
    client.dispose();
    await registry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a pushed config, layer and manifest pull back byte for byte with the same manifest digest', async () => {
    const layer = randomBytes(200_000);
    const pushed = await pushArtifact(registry, 'ai/roundtrip', 'v1', { layers: [layer] });
    const ref = parseReference(registry.reference('ai/roundtrip', 'v1'));
    const resolved = await client.resolveManifest(ref);
    assert.equal(resolved.digest, pushed.manifestDigest);
    assert.deepEqual(resolved.bytes, pushed.manifestBytes);
    assert.equal(resolved.mediaType, OCI_MANIFEST);
    assert.equal(resolved.manifest.layers[0]!.digest, sha256Digest(layer));

    const progress: number[] = [];
    const partial = path.join(dir, 'layer.partial');
    await client.downloadBlob(ref, resolved.manifest.layers[0]!, partial, { onProgress: (n) => progress.push(n) });
    assert.deepEqual(await fs.readFile(partial), layer);
    assert.equal(progress.at(-1), layer.length);

    const byDigest = await client.resolveManifest(parseReference(`${registry.url}/ai/roundtrip@${pushed.manifestDigest}`));
    assert.equal(byDigest.digest, pushed.manifestDigest);
  });

  test('pushing a blob the registry already has skips the upload and blobExists tells both cases apart', async () => {
    const ref = parseReference(registry.reference('ai/exists'));
    const data = Buffer.from('present');
    const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(data), size: data.length };
    assert.equal(await client.blobExists(ref, descriptor.digest), false);
    let opened = 0;
    const open = (): NodeJS.ReadableStream => {
      opened++;
      return Readable.from([data]);
    };
    await client.pushBlob(ref, descriptor, open);
    await client.pushBlob(ref, descriptor, open);
    assert.equal(opened, 1);
    assert.equal(await client.blobExists(ref, descriptor.digest), true);
  });

  test('a blob whose bytes do not match the digest is refused by the registry as a digest mismatch', async () => {
    const ref = parseReference(registry.reference('ai/liar'));
    const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest('truth'), size: 4 };
    await assert.rejects(client.pushBlob(ref, descriptor, () => Readable.from([Buffer.from('lies')])), isAppError('digest_mismatch'));
  });

  test('an index tag resolves to the model entry chosen by artifactType', async () => {
    const pushed = await pushArtifact(registry, 'ai/indexed', 'inner', { layers: [Buffer.from('weights')] });
    const other = await pushArtifact(registry, 'ai/indexed', 'other', { layers: [Buffer.from('other')] });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: other.manifestDigest, size: other.manifestBytes.length },
          { mediaType: OCI_MANIFEST, digest: pushed.manifestDigest, size: pushed.manifestBytes.length, artifactType: CNCF_MANIFEST_ARTIFACT },
        ],
      }),
    );
    const ref = parseReference(registry.reference('ai/indexed', 'latest'));
    await client.pushManifest(ref, index, OCI_INDEX);
    const resolved = await client.resolveManifest(ref);
    assert.equal(resolved.digest, pushed.manifestDigest);
    assert.deepEqual(resolved.bytes, pushed.manifestBytes);
  });

  test('an unknown tag or repository is not_found and the message names registry and repository', async () => {
    await pushArtifact(registry, 'ai/known', 'v1');
    for (const reference of [registry.reference('ai/known', 'missing'), registry.reference('ai/never-pushed')]) {
      await assert.rejects(client.resolveManifest(parseReference(reference)), (err: unknown) => {
        isAppError('not_found')(err);
        assert.match((err as Error).message, new RegExp(`registry ${registry.url.replace(/\./g, '\\.')}`));
        assert.match((err as Error).message, /repository ai\/(known|never-pushed)/);
        return true;
      });
    }
  });

  test('a registry that is not listening is unavailable', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(client.resolveManifest(parseReference(`127.0.0.1:${port}/ai/x`)), isAppError('unavailable'));
  });

  test('a corrupted stored blob fails with digest_mismatch and the partial file is removed', async () => {
    const layer = randomBytes(100_000);
    const pushed = await pushArtifact(registry, 'ai/corrupt', 'v1', { layers: [layer] });
    const stored = registry.blobDataPath(pushed.layerDigests[0]!);
    const damaged = Buffer.from(layer);
    damaged[50_000] ^= 0xff;
    await fs.writeFile(stored, damaged);
    const ref = parseReference(registry.reference('ai/corrupt', 'v1'));
    const { manifest } = await client.resolveManifest(ref);
    const partial = path.join(dir, 'corrupt.partial');
    await assert.rejects(client.downloadBlob(ref, manifest.layers[0]!, partial), (err: unknown) => {
      isAppError('digest_mismatch')(err);
      assert.match((err as Error).message, new RegExp(pushed.layerDigests[0]!));
      return true;
    });
    await assert.rejects(fs.stat(partial), { code: 'ENOENT' });

    const chunked = new RegistryClient({ chunkBytes: 16 * 1024, concurrency: 3, retries: 0 });
    try {
      await assert.rejects(chunked.downloadBlob(ref, manifest.layers[0]!, partial, { chunksPath: chunksOf(partial) }), isAppError('digest_mismatch'));
    } finally {
      chunked.dispose();
    }
    await assert.rejects(fs.stat(partial), { code: 'ENOENT' });
    await assert.rejects(fs.stat(chunksOf(partial)), { code: 'ENOENT' });
  });
});
