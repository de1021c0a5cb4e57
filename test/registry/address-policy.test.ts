/**
 * Token realms and redirects that a registry names must not lead into loopback, private or
 * link-local ranges unless the registry lives in one. The test registries run on loopback, so a
 * registry reached as "localhost" is made to look public by the client's own resolver for the
 * policy (`resolveRegistryHost`): the connections themselves still go to loopback.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { bearerChallenge, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

/** What the policy is told a public registry's host resolves to (TEST-NET-3). */
const PUBLIC_ADDRESS = '203.0.113.7';
const publicResolver = async (): Promise<string[]> => [PUBLIC_ADDRESS];

const LAYER = Buffer.from('layer bytes of a model');
const LAYER_DIGEST = sha256Digest(LAYER);

function refused(host: string, range: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'forbidden', err.message);
    assert.ok(err.message.includes(host), err.message);
    assert.match(err.message, new RegExp(`is a ${range} address`));
    return true;
  };
}

describe('token realms and redirects of a public registry may not point into internal ranges', () => {
  let registry: ScriptedRegistry;
  let inside: ScriptedRegistry;
  let dir: string;
  /** The registry as a public one would be named: by a host name the policy resolves elsewhere. */
  const ref = (repo: string) => parseReference(`localhost:${registry.port}/${repo}:latest`);

  before(async () => {
    registry = await startScriptedRegistry((_req, res) => res.writeHead(404).end());
    // What an attacker would aim at: a service on this machine, here a recorder on 127.0.0.2.
    inside = await startScriptedRegistry((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"inside"}'), '127.0.0.2');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-address-policy-'));
  });
  after(async () => {
    await registry.close();
    await inside.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a token realm on a loopback address is refused with its host named and never contacted', async () => {
    inside.requests.length = 0;
    registry.handle((_req, res) => bearerChallenge(res, `http://${inside.url}/token`));
    const client = new RegistryClient({ resolveRegistryHost: publicResolver, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(ref('ai/realm')), refused(inside.url, 'loopback'));
    } finally {
      client.dispose();
    }
    assert.equal(inside.requests.length, 0);
  });

  test('a token realm whose host name resolves to loopback is refused at the lookup', async () => {
    inside.requests.length = 0;
    const token = await startScriptedRegistry((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"inside"}'));
    registry.handle((_req, res) => bearerChallenge(res, `http://localhost:${token.port}/token`));
    const client = new RegistryClient({ resolveRegistryHost: publicResolver, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(ref('ai/realm-name')), refused('localhost', 'loopback'));
    } finally {
      client.dispose();
      await token.close();
    }
    assert.equal(token.requests.length, 0);
  });

  test('a token realm on the link-local metadata address is refused', async () => {
    registry.handle((_req, res) => bearerChallenge(res, 'http://169.254.169.254/latest/meta-data'));
    const client = new RegistryClient({ resolveRegistryHost: publicResolver, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(ref('ai/metadata')), refused('169.254.169.254', 'link-local'));
    } finally {
      client.dispose();
    }
  });

  test('a manifest redirect into loopback is refused and the target never contacted', async () => {
    inside.requests.length = 0;
    registry.handle((_req, res) => res.writeHead(307, { location: `http://${inside.url}/v2/ai/x/manifests/latest` }).end());
    const client = new RegistryClient({ resolveRegistryHost: publicResolver, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(ref('ai/manifest-redirect')), refused(inside.url, 'loopback'));
    } finally {
      client.dispose();
    }
    assert.equal(inside.requests.length, 0);
  });

  test('a blob redirect into loopback is refused and the target never contacted', async () => {
    inside.requests.length = 0;
    registry.handle((_req, res) => res.writeHead(307, { location: `http://${inside.url}/blobs/${LAYER_DIGEST}` }).end());
    const client = new RegistryClient({ resolveRegistryHost: publicResolver, retries: 0 });
    try {
      const descriptor = { mediaType: 'application/octet-stream', digest: LAYER_DIGEST, size: LAYER.length };
      await assert.rejects(client.downloadBlob(ref('ai/blob-redirect'), descriptor, path.join(dir, 'blob')), refused(inside.url, 'loopback'));
    } finally {
      client.dispose();
    }
    assert.equal(inside.requests.length, 0);
  });

  test('a registry that itself lives on loopback may redirect its blobs to loopback', async () => {
    inside.requests.length = 0;
    inside.handle((_req, res) => res.writeHead(200, { 'content-length': LAYER.length }).end(LAYER));
    registry.handle((_req, res) => res.writeHead(307, { location: `http://${inside.url}/blobs/${LAYER_DIGEST}` }).end());
    // No resolver given: "localhost" resolves to 127.0.0.1, a loopback registry.
    const client = new RegistryClient({ retries: 0 });
    try {
      const descriptor = { mediaType: 'application/octet-stream', digest: LAYER_DIGEST, size: LAYER.length };
      await client.downloadBlob(ref('ai/local-redirect'), descriptor, path.join(dir, 'local-blob'));
      assert.deepEqual(await fs.readFile(path.join(dir, 'local-blob')), LAYER);
    } finally {
      client.dispose();
    }
    assert.equal(inside.requests.length, 1);
  });
});
