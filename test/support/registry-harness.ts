/**
 * Real OCI registries for tests, all on loopback, no network needed.
 *
 *   const registry = await startRegistry('anonymous');          // or 'basic' | 'token'
 *   after(() => registry.stop());
 *   const ref = parseReference(registry.reference('ai/tiny', 'latest'));
 *   await pushArtifact(registry, 'ai/tiny', 'latest', { layers: [Buffer.from('gguf bytes')] });
 *
 * - 'anonymous': Debian's `docker-registry` (distribution 2.8) with no auth.
 * - 'basic': htpasswd auth; `registry.credentials` is testuser/testpass.
 * - 'token': Docker Hub's shape: a token server (anonymous pull, testuser/testpass may push;
 *   `tokenServer.stats()` lists the scopes asked for) and blob GETs redirected (307) to a fake
 *   CDN on 127.0.0.2 that refuses any Authorization header (`cdn.stats().rejectedAuth`) and
 *   can cut (`cdn.failAfterBytes`) or hold (`cdn.hold()`) its answers.
 *
 * Needs `docker-registry`, `htpasswd` and `openssl` on PATH (`make test-deps` installs them).
 * Each registry gets a free port and a temporary root (`dataDir`); stop() kills its process
 * group and removes the directory.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { parseReference, RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import { type FakeCdn, startFakeCdn } from './fake-cdn.js';
import { startTokenServer, type TokenServer, TOKEN_ISSUER, TOKEN_SERVICE } from './token-server.js';

export type RegistryKind = 'anonymous' | 'basic' | 'token';

export const TEST_USERNAME = 'testuser';
export const TEST_PASSWORD = 'testpass';

export interface StartRegistryOptions {
  /** For 'token': redirect blob GETs to the fake CDN. Defaults to true. */
  redirectToCdn?: boolean;
  /** Milliseconds to wait for the registry to answer /v2/. Defaults to 15000. */
  readyTimeoutMs?: number;
}

export interface TestRegistry {
  kind: RegistryKind;
  /** "127.0.0.1:PORT", usable as the registry part of a reference. */
  url: string;
  /** `${url}/${repo}:${tag}`; tag defaults to "latest". */
  reference(repo: string, tag?: string): string;
  /** testuser/testpass for 'basic' and 'token' (push needs them on 'token'), for this registry (spread into RegistryClientOptions). */
  credentials?: { username: string; password: string; credentialsRegistry: string };
  cdn?: FakeCdn;
  tokenServer?: Pick<TokenServer, 'stats' | 'resetStats' | 'realm'> & { expiresInSeconds: number; expireNext: number };
  /** Temporary root; the registry stores its data under `${dataDir}/data`. */
  dataDir: string;
  /** Path of the registry's stored file for a blob digest (to corrupt it in tests). */
  blobDataPath(digest: string): string;
  stop(): Promise<void>;
}

async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Status and instance header of a GET, or status 0 when nothing answered. */
function probe(url: string): Promise<{ status: number; instance?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, instance: res.headers[INSTANCE_HEADER] as string | undefined });
    });
    req.once('error', () => resolve({ status: 0 }));
    req.setTimeout(1000, () => req.destroy());
  });
}

/**
 * Every answer of a started registry carries this header with its own id, so that readiness is
 * judged on our registry and not on another one that took the port between its probe and our bind.
 */
const INSTANCE_HEADER = 'x-test-registry-instance';
/** Ports tried when another process takes the free one before the registry binds it. */
const PORT_ATTEMPTS = 5;

function registryConfig(dataDir: string, addr: string, auth: string, middleware: string, instance: string): string {
  return [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(path.join(dataDir, 'data'))}}`,
    '  delete: {enabled: true}',
    `http: {addr: ${JSON.stringify(addr)}, secret: local-test-secret, headers: {${INSTANCE_HEADER}: [${instance}]}}`,
    auth,
    middleware,
    '',
  ].join('\n');
}

export async function startRegistry(kind: RegistryKind, options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `mr-registry-${kind}-`));
  await fs.mkdir(path.join(dataDir, 'data'), { recursive: true });
  const cleanups: Array<() => Promise<void>> = [];
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const stop = async (): Promise<void> => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child!.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await fs.rm(dataDir, { recursive: true, force: true });
  };

  try {
    let auth = '';
    let middleware = '';
    let cdn: FakeCdn | undefined;
    let tokenServer: TokenServer | undefined;
    if (kind === 'basic') {
      const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', TEST_USERNAME, TEST_PASSWORD]);
      await fs.writeFile(path.join(dataDir, 'htpasswd'), stdout);
      auth = `auth: {htpasswd: {realm: basic-realm, path: ${JSON.stringify(path.join(dataDir, 'htpasswd'))}}}`;
    } else if (kind === 'token') {
      tokenServer = await startTokenServer(dataDir, { username: TEST_USERNAME, password: TEST_PASSWORD });
      cleanups.push(() => tokenServer!.close());
      auth = `auth: {token: {realm: ${JSON.stringify(tokenServer.realm)}, service: ${TOKEN_SERVICE}, issuer: ${TOKEN_ISSUER}, rootcertbundle: ${JSON.stringify(tokenServer.certPath)}}}`;
      if (options.redirectToCdn ?? true) {
        cdn = await startFakeCdn(path.join(dataDir, 'data'));
        cleanups.push(() => cdn!.close());
        middleware = `middleware: {storage: [{name: redirect, options: {baseurl: ${JSON.stringify(cdn.baseUrl)}}}]}`;
      }
    }
    const instance = randomUUID();
    let addr = '';
    for (let attempt = 1; ; attempt++) {
      addr = `127.0.0.1:${await freePort()}`;
      const configPath = path.join(dataDir, 'config.yml');
      await fs.writeFile(configPath, registryConfig(dataDir, addr, auth, middleware, instance));
      output.length = 0;
      const started = spawn('docker-registry', ['serve', configPath], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      const keep = (data: Buffer): void => {
        output.push(data.toString('utf8'));
        if (output.length > 50) output.shift();
      };
      started.stdout?.on('data', keep);
      started.stderr?.on('data', keep);
      const spawnError = new Promise<never>((_, reject) => started.once('error', reject));
      spawnError.catch(() => undefined);
      const exited = new Promise<{ status: -1 }>((resolve) => started.once('exit', () => resolve({ status: -1 })));

      const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
      let ready = false;
      while (!ready) {
        const answer = await Promise.race([probe(`http://${addr}/v2/`), spawnError, exited]);
        if ((answer.status === 200 || answer.status === 401) && 'instance' in answer && answer.instance === instance) ready = true;
        else if (started.exitCode !== null || answer.status === -1) break;
        else if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${addr}: ${output.join('')}`);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (ready) break;
      if (!/address already in use/.test(output.join('')) || attempt >= PORT_ATTEMPTS) {
        throw new Error(`docker-registry exited with ${started.exitCode}: ${output.join('')}`);
      }
    }

    const dataRoot = path.join(dataDir, 'data');
    return {
      kind,
      url: addr,
      reference: (repo, tag = 'latest') => `${addr}/${repo}:${tag}`,
      credentials: kind === 'anonymous' ? undefined : { username: TEST_USERNAME, password: TEST_PASSWORD, credentialsRegistry: addr },
      cdn,
      tokenServer: tokenServer && {
        stats: () => tokenServer!.stats(),
        resetStats: () => tokenServer!.resetStats(),
        realm: tokenServer.realm,
        get expiresInSeconds() {
          return tokenServer!.expiresInSeconds;
        },
        set expiresInSeconds(value: number) {
          tokenServer!.expiresInSeconds = value;
        },
        get expireNext() {
          return tokenServer!.expireNext;
        },
        set expireNext(value: number) {
          tokenServer!.expireNext = value;
        },
      },
      dataDir,
      blobDataPath: (digest) => {
        const hex = digest.replace(/^sha256:/, '');
        return path.join(dataRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface PushArtifactOptions {
  /** Layer contents, pushed in order. Defaults to one small layer. */
  layers?: Buffer[];
  /** Layer media type. Defaults to the Docker GGUF type. */
  layerMediaType?: string;
  /** Config JSON object. Defaults to a minimal GGUF model config. */
  config?: Record<string, unknown>;
  /** Options of the client doing the push (credentials are filled in for auth registries). */
  client?: RegistryClientOptions;
}

export interface PushedArtifact {
  manifestDigest: string;
  manifestBytes: Buffer;
  configDigest: string;
  layerDigests: string[];
}

/** Pushes a small model artifact (config + layers + OCI manifest) with our client. */
export async function pushArtifact(registry: TestRegistry, repo: string, tag: string, options: PushArtifactOptions = {}): Promise<PushedArtifact> {
  const client = new RegistryClient({ ...registry.credentials, ...options.client });
  try {
    const ref = parseReference(registry.reference(repo, tag));
    const layers = options.layers ?? [Buffer.from('GGUF test layer')];
    const configBytes = Buffer.from(JSON.stringify(options.config ?? { config: { format: 'gguf' }, rootfs: { type: 'rootfs', diff_ids: layers.map((l) => sha256Digest(l)) } }));
    const configDescriptor = { mediaType: DOCKER_CONFIG_V01, digest: sha256Digest(configBytes), size: configBytes.length };
    const layerDescriptors = layers.map((l) => ({ mediaType: options.layerMediaType ?? DOCKER_GGUF, digest: sha256Digest(l), size: l.length }));
    await client.pushBlob(ref, configDescriptor, () => Readable.from([configBytes]));
    for (const [i, layer] of layers.entries()) await client.pushBlob(ref, layerDescriptors[i]!, () => Readable.from([layer]));
    const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: layerDescriptors }));
    const manifestDigest = await client.pushManifest(ref, manifestBytes, OCI_MANIFEST);
    return { manifestDigest, manifestBytes, configDigest: configDescriptor.digest, layerDigests: layerDescriptors.map((d) => d.digest) };
  } finally {
    client.dispose();
  }
}
