import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CredentialStore, readDockerConfigCredentials } from '../../../src/registry/credentials.js';

describe('credentials', () => {
  let dir: string;
  let configPath: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-credentials-'));
    configPath = path.join(dir, 'config.json');
    await fs.writeFile(
      configPath,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
          'http://127.0.0.1:5000': { username: 'localuser', password: 'localpass' },
          'ghcr.io': {},
        },
        credsStore: 'desktop',
      }),
    );
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  test("Docker Hub's v1 index key answers for docker.io and the base64 auth keeps colons in the password", async () => {
    assert.deepEqual(await readDockerConfigCredentials(configPath, 'docker.io'), { username: 'hubuser', password: 'hub:pass' });
  });

  test('a key with a scheme matches its host and username/password fields are read', async () => {
    assert.deepEqual(await readDockerConfigCredentials(configPath, '127.0.0.1:5000'), { username: 'localuser', password: 'localpass' });
  });

  test('registries without a usable entry, and a missing file, have no credentials', async () => {
    assert.equal(await readDockerConfigCredentials(configPath, 'ghcr.io'), undefined);
    assert.equal(await readDockerConfigCredentials(configPath, 'quay.io'), undefined);
    assert.equal(await readDockerConfigCredentials(path.join(dir, 'missing.json'), 'docker.io'), undefined);
  });

  test('explicit username and password win over the docker config', async () => {
    const store = new CredentialStore({ username: 'envuser', password: 'envpass', dockerConfigPath: configPath });
    assert.deepEqual(await store.lookup('docker.io'), { username: 'envuser', password: 'envpass' });
    assert.deepEqual(await new CredentialStore({ dockerConfigPath: configPath }).lookup('docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.equal(await new CredentialStore().lookup('docker.io'), undefined);
  });
});
