import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

const run = promisify(execFile);

/** Writes an OCI image layout holding one model artifact; returns its manifest bytes. */
async function writeOciLayout(dir: string, tag: string, config: Buffer, layer: Buffer): Promise<Buffer> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  const put = async (data: Buffer): Promise<string> => {
    const digest = sha256Digest(data);
    await fs.writeFile(path.join(blobs, digest.slice('sha256:'.length)), data);
    return digest;
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: DOCKER_CONFIG_V01, digest: await put(config), size: config.length },
      layers: [{ mediaType: DOCKER_GGUF, digest: await put(layer), size: layer.length, annotations: { 'org.cncf.model.filepath': 'model.gguf' } }],
    }),
  );
  const manifestDigest = await put(manifest);
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fs.writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
  return manifest;
}

describe('interoperability with skopeo', () => {
  let registry: TestRegistry;
  let dir: string;
  before(async () => {
    registry = await startRegistry('anonymous');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-skopeo-'));
  });
  after(async () => {
    await registry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('skopeo reads back the exact manifest and config we pushed', async () => {
    const pushed = await pushArtifact(registry, 'ai/ours', 'v1', { layers: [randomBytes(5000)] });
    const { stdout: raw } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.reference('ai/ours', 'v1')}`], { encoding: 'buffer' });
    assert.deepEqual(raw, pushed.manifestBytes);
    const { stdout: config } = await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${registry.reference('ai/ours', 'v1')}`], { encoding: 'buffer' });
    assert.equal(sha256Digest(config), pushed.configDigest);
  });

  test('an artifact skopeo copies into the registry pulls with the same manifest digest and blobs', async () => {
    const layout = path.join(dir, 'layout');
    const config = Buffer.from(JSON.stringify({ config: { format: 'gguf' } }));
    const layer = randomBytes(300_000);
    const manifest = await writeOciLayout(layout, 'v1', config, layer);
    await run('skopeo', ['--insecure-policy', 'copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.reference('ai/theirs', 'v1')}`]);

    const client = new RegistryClient();
    try {
      const ref = parseReference(registry.reference('ai/theirs', 'v1'));
      const resolved = await client.resolveManifest(ref);
      assert.equal(resolved.digest, sha256Digest(manifest));
      assert.deepEqual(resolved.bytes, manifest);
      const partial = path.join(dir, 'theirs-layer');
      await client.downloadBlob(ref, resolved.manifest.layers[0]!, partial);
      assert.deepEqual(await fs.readFile(partial), layer);
      await client.downloadBlob(ref, resolved.manifest.config, path.join(dir, 'theirs-config'));
      assert.deepEqual(await fs.readFile(path.join(dir, 'theirs-config')), config);
    } finally {
      client.dispose();
    }
  });
});
