import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { basicChallenge, bearerChallenge, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

const BASIC_TESTUSER = `Basic ${Buffer.from('testuser:testpass').toString('base64')}`;

function rejectsWith(code: string, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /testpass/);
    return true;
  };
}

/** The first IPv4 address of this machine that is not loopback, if it has one. */
function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

describe('registry credentials go only to the registry they are for', () => {
  let evil: ScriptedRegistry;
  let dir: string;
  before(async () => {
    evil = await startScriptedRegistry((_req, res) => basicChallenge(res));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-cred-scope-'));
  });
  after(async () => {
    await evil.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a username and password for Docker Hub are not sent to another registry that asks for Basic credentials', async () => {
    evil.handle((_req, res) => basicChallenge(res));
    evil.requests.length = 0;
    const client = new RegistryClient({ username: 'testuser', password: 'testpass', retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${evil.url}/ai/tiny:latest`)), rejectsWith('unauthorized', /no credentials are configured/));
    } finally {
      client.dispose();
    }
    assert.ok(evil.requests.length > 0);
    assert.deepEqual(evil.requests.map((r) => r.headers.authorization), evil.requests.map(() => undefined));
  });

  test('nor to the token realm that another registry names', async () => {
    evil.requests.length = 0;
    const realm = `http://${evil.url}/token`;
    evil.handle((req, res) => {
      if (req.url?.startsWith('/token')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'scripted' }));
      else bearerChallenge(res, realm);
    });
    const client = new RegistryClient({ username: 'testuser', password: 'testpass', retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${evil.url}/ai/tiny:latest`)), rejectsWith('unauthorized', /manifest latest on registry .*: access denied \(HTTP 401, UNAUTHORIZED/));
    } finally {
      client.dispose();
    }
    const tokenRequests = evil.requests.filter((r) => r.path.startsWith('/token'));
    assert.ok(tokenRequests.length > 0, 'the realm was asked for a token');
    assert.ok(tokenRequests.every((r) => r.headers.authorization === undefined && !r.path.includes('account=')), JSON.stringify(tokenRequests));
  });

  test('the same username and password do reach the registry named as theirs', async () => {
    evil.handle((_req, res) => basicChallenge(res));
    evil.requests.length = 0;
    const client = new RegistryClient({ username: 'testuser', password: 'testpass', credentialsRegistry: evil.url, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${evil.url}/ai/tiny:latest`)), rejectsWith('unauthorized', /refused the credentials/));
    } finally {
      client.dispose();
    }
    assert.equal(evil.requests.at(-1)?.headers.authorization, BASIC_TESTUSER);
  });

  test("a docker config.json entry for Docker Hub is not sent to another registry", async () => {
    evil.handle((_req, res) => basicChallenge(res));
    evil.requests.length = 0;
    const configPath = path.join(dir, 'config.json');
    await fs.writeFile(configPath, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('testuser:testpass').toString('base64') } } }));
    const client = new RegistryClient({ dockerConfigPath: configPath, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${evil.url}/ai/tiny:latest`)), rejectsWith('unauthorized', /no credentials are configured/));
    } finally {
      client.dispose();
    }
    assert.ok(evil.requests.every((r) => r.headers.authorization === undefined));
  });
});

describe('Basic credentials never cross plain HTTP to a host that is not loopback', () => {
  const address = nonLoopbackAddress();
  let registry: ScriptedRegistry | undefined;
  before(async () => {
    if (address) registry = await startScriptedRegistry((_req, res) => basicChallenge(res), address);
  });
  after(async () => {
    await registry?.close();
  });

  test('an insecure registry on a non-loopback address that asks for Basic credentials is refused them', { skip: address === undefined && 'this machine has no non-loopback IPv4 address' }, async () => {
    const reg = registry!;
    const client = new RegistryClient({ username: 'testuser', password: 'testpass', credentialsRegistry: reg.url, insecureRegistries: [reg.url], retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${reg.url}/ai/tiny:latest`)), rejectsWith('forbidden', new RegExp(`refusing to send the credentials for registry ${reg.url.replace(/\./g, '\\.')} to http://.*plain HTTP`)));
    } finally {
      client.dispose();
    }
    assert.ok(reg.requests.length > 0);
    assert.ok(reg.requests.every((r) => r.headers.authorization === undefined));
  });

  test('a token realm over plain HTTP on a non-loopback address is refused the credentials of a loopback registry', { skip: address === undefined && 'this machine has no non-loopback IPv4 address' }, async () => {
    const tokenServer = registry!;
    tokenServer.requests.length = 0;
    tokenServer.handle((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'scripted' })));
    const local = await startScriptedRegistry((_req, res) => bearerChallenge(res, `http://${tokenServer.url}/token`));
    const client = new RegistryClient({ username: 'testuser', password: 'testpass', credentialsRegistry: local.url, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(parseReference(`${local.url}/ai/tiny:latest`)), rejectsWith('forbidden', /plain HTTP to a host that is not loopback/));
    } finally {
      client.dispose();
      await local.close();
    }
    assert.equal(tokenServer.requests.length, 0);
  });
});
