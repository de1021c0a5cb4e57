/**
 * Pulls through a real forward proxy (tinyproxy on loopback, so `proxyLoopback` lets the loopback
 * test registries through it, as a proxy elsewhere could not reach them): every hop of a pull (the registry,
 * its token server, the CDN its blobs redirect to) goes through HTTP_PROXY, NO_PROXY keeps the
 * hosts it lists off it, a proxy that wants credentials gets them from its URL, and the address
 * policy still judges where the registry sends us, not the proxy.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseReference, RegistryClient, type Descriptor, type ProxySettings, type Reference } from '../../src/registry/index.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { startScriptedRegistry } from '../support/scripted-registry.js';
import { startTinyproxy, type TestProxy } from '../support/tinyproxy.js';

const PROXY_USER = 'puller';
const PROXY_PASSWORD = 'proxy-secret-1';

/** A request through `proxy` that the test waits for, so that every earlier request is in the log too. */
async function marker(proxy: TestProxy, registry: TestRegistry, tag: string): Promise<void> {
  const target = `http://${registry.url}/v2/?marker=${tag}`;
  await new Promise<void>((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: proxy.port, path: target, headers: { host: registry.url }, agent: false }, (res) => {
      res.resume();
      res.once('end', resolve);
    });
    request.once('error', reject);
  });
  await proxy.seen((line) => line.includes(`marker=${tag}`));
}

describe('pulls through an HTTP proxy', () => {
  let registry: TestRegistry;
  let proxy: TestProxy;
  let guarded: TestProxy;
  let dir: string;
  let ref: Reference;
  let layers: Array<{ data: Buffer; descriptor: Descriptor }>;

  before(async () => {
    [registry, proxy, guarded] = await Promise.all([startRegistry('token'), startTinyproxy(), startTinyproxy({ credentials: { username: PROXY_USER, password: PROXY_PASSWORD } })]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-proxy-'));
    // A small layer (one request) and one large enough for a chunked download.
    const data = [randomBytes(200_000), randomBytes(17 * 1024 * 1024 + 99)];
    await pushArtifact(registry, 'ai/proxied', 'v1', { layers: data });
    ref = parseReference(registry.reference('ai/proxied', 'v1'));
    const direct = new RegistryClient();
    const { manifest } = await direct.resolveManifest(ref);
    direct.dispose();
    layers = data.map((d, i) => ({ data: d, descriptor: manifest.layers[i]! }));
  });
  after(async () => {
    await Promise.all([registry?.stop(), proxy?.stop(), guarded?.stop()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Resolves the manifest and downloads every layer with `settings`; checks the bytes. */
  async function pull(settings: ProxySettings, name: string): Promise<void> {
    const client = new RegistryClient({ proxy: { ...settings, proxyLoopback: true }, retries: 0 });
    try {
      await client.resolveManifest(ref);
      for (const [i, layer] of layers.entries()) {
        const partial = path.join(dir, `${name}-${i}.partial`);
        await client.downloadBlob(ref, layer.descriptor, partial, { chunksPath: `${partial}.chunks` });
        assert.deepEqual(await fs.readFile(partial), layer.data);
      }
    } finally {
      client.dispose();
    }
  }

  test('every hop of a pull goes through HTTP_PROXY: the registry, its token server and the CDN', async () => {
    proxy.resetRequests();
    registry.cdn!.resetStats();
    await pull({ httpProxy: proxy.url }, 'through');
    await marker(proxy, registry, 'through');
    const seen = proxy.requests();
    const cdnHost = new URL(registry.cdn!.baseUrl).host;
    const tokenHost = new URL(registry.tokenServer!.realm).host;
    assert.ok(seen.some((l) => l.startsWith(`GET http://${registry.url}/v2/ai/proxied/manifests/v1 `)), seen.join('\n'));
    assert.ok(seen.some((l) => l.startsWith(`GET http://${tokenHost}/`)), seen.join('\n'));
    const cdnRequests = seen.filter((l) => l.startsWith(`GET http://${cdnHost}/`)).length;
    assert.equal(cdnRequests, registry.cdn!.stats().requests);
    assert.ok(cdnRequests >= 2);
    assert.equal(registry.cdn!.stats().rejectedAuth, 0);
  });

  test('NO_PROXY keeps the hosts it lists off the proxy, per hop', async () => {
    proxy.resetRequests();
    await pull({ httpProxy: proxy.url, noProxy: '127.0.0.1, 127.0.0.2' }, 'bypass');
    await marker(proxy, registry, 'bypass');
    assert.deepEqual(proxy.requests().filter((l) => !l.includes('marker=')), []);

    // Only the CDN listed (with its port): the registry goes through the proxy, its blobs do not.
    proxy.resetRequests();
    const cdnHost = new URL(registry.cdn!.baseUrl).host;
    await pull({ httpProxy: proxy.url, noProxy: cdnHost }, 'cdn-direct');
    await marker(proxy, registry, 'cdn-direct');
    const seen = proxy.requests();
    assert.ok(seen.some((l) => l.includes(`http://${registry.url}/v2/ai/proxied/`)), seen.join('\n'));
    assert.deepEqual(seen.filter((l) => l.includes(cdnHost)), []);
  });

  test('a proxy that requires credentials is refused with a clear error without them, and gets them from its URL', async () => {
    const bare = new RegistryClient({ proxy: { httpProxy: guarded.url, proxyLoopback: true }, retries: 0 });
    try {
      await assert.rejects(bare.resolveManifest(ref), (err: unknown) => {
        assert.ok(err instanceof AppError, String(err));
        assert.equal(err.code, 'unauthorized');
        assert.match(err.message, new RegExp(`proxy 127\\.0\\.0\\.1:${guarded.port} .*requires credentials`));
        return true;
      });
    } finally {
      bare.dispose();
    }
    const wrong = new RegistryClient({ proxy: { httpProxy: `http://${PROXY_USER}:nope@127.0.0.1:${guarded.port}`, proxyLoopback: true }, retries: 0 });
    try {
      // tinyproxy answers wrong credentials with 401 rather than 407, so the refusal reads as the registry's.
      await assert.rejects(wrong.resolveManifest(ref), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'unauthorized', String(err));
        assert.ok(!err.message.includes('nope'), 'the password is never repeated');
        return true;
      });
    } finally {
      wrong.dispose();
    }
    guarded.resetRequests();
    await pull({ httpProxy: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${guarded.port}` }, 'credentials');
    assert.ok(guarded.requests().length >= 3);
  });

  test('a blob redirect through the proxy to a name that resolves to loopback is refused before the proxy is asked', async () => {
    const LAYER = Buffer.from('layer bytes');
    const descriptor = { mediaType: 'application/octet-stream', digest: `sha256:${'0'.repeat(64)}`, size: LAYER.length };
    const inside = await startScriptedRegistry((_req, res) => res.writeHead(200).end(LAYER));
    const outside = await startScriptedRegistry((_req, res) => res.writeHead(307, { location: `http://localhost:${inside.port}/secret` }).end());
    proxy.resetRequests();
    // The registry is made to look public (as in address-policy.test.ts); its connections still go to loopback.
    const client = new RegistryClient({ proxy: { httpProxy: proxy.url, proxyLoopback: true }, resolveRegistryHost: async () => ['203.0.113.7'], retries: 0 });
    try {
      const publicRef = parseReference(`localhost:${outside.port}/ai/redirect:latest`);
      await assert.rejects(client.downloadBlob(publicRef, descriptor, path.join(dir, 'refused')), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'forbidden', String(err));
        assert.match(err.message, /is a loopback address/);
        return true;
      });
    } finally {
      client.dispose();
      await inside.close();
      await outside.close();
    }
    await marker(proxy, registry, 'guard');
    assert.ok(proxy.requests().some((l) => l.includes(`localhost:${outside.port}/v2/ai/redirect/blobs/`)));
    assert.deepEqual(proxy.requests().filter((l) => l.includes('/secret')), []);
    assert.equal(inside.requests.length, 0);
  });
});
