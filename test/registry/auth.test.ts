import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { ManualRegistryClock } from '../support/registry-clock.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

function isAppError(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('basic auth registry', () => {
  let registry: TestRegistry;
  let dir: string;
  before(async () => {
    registry = await startRegistry('basic');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-basic-'));
  });
  after(async () => {
    await registry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('good credentials push and pull; bad or missing ones are unauthorized', async () => {
    const layer = randomBytes(10_000);
    const pushed = await pushArtifact(registry, 'ai/private', 'v1', { layers: [layer] });
    const ref = parseReference(registry.reference('ai/private', 'v1'));

    const good = new RegistryClient({ username: 'testuser', password: 'testpass', credentialsRegistry: registry.url });
    const wrong = new RegistryClient({ username: 'testuser', password: 'nope', credentialsRegistry: registry.url, retries: 0 });
    const none = new RegistryClient({ retries: 0 });
    try {
      const resolved = await good.resolveManifest(ref);
      assert.equal(resolved.digest, pushed.manifestDigest);
      await good.downloadBlob(ref, resolved.manifest.layers[0]!, path.join(dir, 'layer'));
      assert.deepEqual(await fs.readFile(path.join(dir, 'layer')), layer);

      await assert.rejects(wrong.resolveManifest(ref), (err: unknown) => {
        isAppError('unauthorized')(err);
        assert.match((err as Error).message, /refused the credentials of user "testuser"/);
        assert.doesNotMatch((err as Error).message, /nope/);
        return true;
      });
      await assert.rejects(none.resolveManifest(ref), isAppError('unauthorized'));
    } finally {
      for (const c of [good, wrong, none]) c.dispose();
    }
  });

  test('credentials from a docker config.json auths entry are used', async () => {
    await pushArtifact(registry, 'ai/from-config', 'v1');
    const configPath = path.join(dir, 'config.json');
    await fs.writeFile(configPath, JSON.stringify({ auths: { [registry.url]: { auth: Buffer.from('testuser:testpass').toString('base64') } } }));
    const client = new RegistryClient({ dockerConfigPath: configPath });
    try {
      const resolved = await client.resolveManifest(parseReference(registry.reference('ai/from-config', 'v1')));
      assert.equal(resolved.manifest.layers.length, 1);
    } finally {
      client.dispose();
    }
  });
});

describe('token auth registry with blobs redirected to a CDN', () => {
  let registry: TestRegistry;
  let dir: string;
  before(async () => {
    registry = await startRegistry('token');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-token-'));
  });
  after(async () => {
    await registry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('an anonymous pull gets one pull token, follows blob redirects without sending it to the CDN', async () => {
    const layers = [randomBytes(50_000), randomBytes(60_000), randomBytes(70_000)];
    const pushed = await pushArtifact(registry, 'ai/public', 'v1', { layers });
    registry.tokenServer!.resetStats();
    registry.cdn!.resetStats();

    const client = new RegistryClient();
    try {
      const ref = parseReference(registry.reference('ai/public', 'v1'));
      const resolved = await client.resolveManifest(ref);
      assert.equal(resolved.digest, pushed.manifestDigest);
      for (const [i, layer] of resolved.manifest.layers.entries()) {
        await client.downloadBlob(ref, layer, path.join(dir, `public-${i}`));
        assert.deepEqual(await fs.readFile(path.join(dir, `public-${i}`)), layers[i]);
      }
      const cdn = registry.cdn!.stats();
      assert.equal(cdn.requests, 3);
      assert.equal(cdn.rejectedAuth, 0);
      const scopes = registry.tokenServer!.stats().scopes;
      assert.deepEqual(scopes.filter((s) => s === 'repository:ai/public:pull'), ['repository:ai/public:pull']);
      assert.equal(registry.tokenServer!.stats().requests, 1);
    } finally {
      client.dispose();
    }
  });

  test('pushing asks for a pull,push token; without credentials the push is unauthorized', async () => {
    registry.tokenServer!.resetStats();
    const data = Buffer.from('anonymous push attempt');
    const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(data), size: data.length };
    const ref = parseReference(registry.reference('ai/pushed'));
    const anonymous = new RegistryClient({ retries: 0 });
    try {
      await assert.rejects(anonymous.pushBlob(ref, descriptor, () => Readable.from([data])), isAppError('unauthorized'));
    } finally {
      anonymous.dispose();
    }
    assert.ok(registry.tokenServer!.stats().scopes.includes('repository:ai/pushed:pull,push'));

    const user = new RegistryClient({ username: 'testuser', password: 'testpass', credentialsRegistry: registry.url });
    try {
      await user.pushBlob(ref, descriptor, () => Readable.from([data]));
      assert.equal(await user.blobExists(ref, descriptor.digest), true);
    } finally {
      user.dispose();
    }
  });

  test('a cached token is sent until its lifetime less the renewal margin has passed, and renewed from then on', async () => {
    await pushArtifact(registry, 'ai/short-lived', 'v1');
    const ref = parseReference(registry.reference('ai/short-lived', 'v1'));
    const tokens = registry.tokenServer!;
    // The client renews a token 10 s (or a tenth of its lifetime, if shorter) before it expires.
    const lifetimeMs = tokens.expiresInSeconds * 1000;
    const renewAtMs = lifetimeMs - Math.min(10_000, lifetimeMs / 10);
    tokens.resetStats();
    const clock = new ManualRegistryClock();
    const client = new RegistryClient({ clock });
    try {
      await client.resolveManifest(ref);
      await client.resolveManifest(ref);
      assert.equal(tokens.stats().requests, 1, 'the second request reuses the token');
      clock.advance(renewAtMs - 1);
      await client.resolveManifest(ref);
      assert.equal(tokens.stats().requests, 1, 'a millisecond before the renewal point the token is still sent');
      clock.advance(1);
      await client.resolveManifest(ref);
      assert.equal(tokens.stats().requests, 2, 'at the renewal point a new token is fetched');
      await client.resolveManifest(ref);
      assert.equal(tokens.stats().requests, 2, 'and the new one is reused in turn');
    } finally {
      client.dispose();
    }
  });

  test('a token the registry refuses as expired, though the client holds it for valid, is dropped and a fresh one fetched', async () => {
    await pushArtifact(registry, 'ai/refused-token', 'v1');
    const ref = parseReference(registry.reference('ai/refused-token', 'v1'));
    const tokens = registry.tokenServer!;
    tokens.resetStats();
    tokens.expireNext = 1;
    const client = new RegistryClient({ retries: 0 });
    try {
      const resolved = await client.resolveManifest(ref);
      assert.equal(resolved.manifest.layers.length, 1);
      assert.equal(tokens.stats().requests, 2, 'one refused token, one fresh');
      await client.resolveManifest(ref);
      assert.equal(tokens.stats().requests, 2, 'the fresh token is cached, the refused one is not offered again');
    } finally {
      tokens.expireNext = 0;
      client.dispose();
    }
  });

  test('a bearer token given with the request is sent as is and a bad one is unauthorized', async () => {
    await pushArtifact(registry, 'ai/bearer', 'v1');
    registry.tokenServer!.resetStats();
    const client = new RegistryClient({ retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(registry.reference('ai/bearer', 'v1')), { bearerToken: 'not-a-jwt' }), isAppError('unauthorized'));
      assert.equal(registry.tokenServer!.stats().requests, 0);
    } finally {
      client.dispose();
    }
  });
});
