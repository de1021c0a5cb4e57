/**
 * A registry that is busy (429) or failing (5xx) and says when to come back: the client waits
 * what Retry-After asks (seconds or an HTTP date) for manifests, token fetches and blob chunks,
 * within a bound on the wait and on the attempts, and a Retry-After beyond the bound ends the
 * operation with an error naming it. The clock is the test's: the waits are recorded, not spent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { DOCKER_GGUF } from '../../src/models/media-types.js';
import { parseReference, RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { ManualRegistryClock } from '../support/registry-clock.js';
import { answerBlob, answerError, answerManifest, modelManifest, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

const CONFIG = Buffer.from('{"config":{"format":"gguf"}}');
const LAYER = randomBytes(5 * 64 * 1024 + 99);
const MANIFEST = modelManifest(CONFIG, [LAYER]);
const LAYER_DESCRIPTOR = { mediaType: DOCKER_GGUF, digest: sha256Digest(LAYER), size: LAYER.length };
const CHUNK = 64 * 1024;

describe('Retry-After from a busy or failing registry', () => {
  let registry: ScriptedRegistry;
  let dir: string;
  let clock: ManualRegistryClock;
  const clients: RegistryClient[] = [];
  /** A client on the test's clock with no backoff of its own, so that every wait is the server's. */
  const clientWith = (options: RegistryClientOptions = {}): RegistryClient => {
    const client = new RegistryClient({ clock, retryDelayMs: 0, retries: 3, ...options });
    clients.push(client);
    return client;
  };
  const ref = () => parseReference(`${registry.url}/ai/busy:latest`);
  const count = (part: string): number => registry.requests.filter((r) => r.path.includes(part)).length;

  before(async () => {
    registry = await startScriptedRegistry((_req, res) => res.writeHead(404).end());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-retry-after-'));
  });
  beforeEach(() => {
    clock = new ManualRegistryClock();
    registry.requests.length = 0;
  });
  after(async () => {
    for (const c of clients) c.dispose();
    await registry.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a manifest answered 429 with Retry-After in seconds is asked again after exactly that wait', async () => {
    registry.handle((_req, res, index) => (index === 0 ? answerError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': '7' }) : answerManifest(res, MANIFEST)));
    const resolved = await clientWith().resolveManifest(ref());
    assert.equal(resolved.digest, sha256Digest(MANIFEST));
    assert.deepEqual(clock.waits, [7000]);
    assert.equal(count('/manifests/'), 2);
  });

  test('a manifest answered 503 with Retry-After as an HTTP date waits until that date by the client clock', async () => {
    const at = new Date(clock.now() + 30_000).toUTCString();
    registry.handle((_req, res, index) => (index === 0 ? answerError(res, 503, 'UNAVAILABLE', { 'retry-after': at }) : answerManifest(res, MANIFEST)));
    await clientWith().resolveManifest(ref());
    assert.deepEqual(clock.waits, [30_000]);
  });

  test('a Retry-After longer than the client waits fails at once with an error naming it', async () => {
    registry.handle((_req, res) => answerError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': '3600' }));
    await assert.rejects(clientWith().resolveManifest(ref()), (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.code, 'busy');
      assert.match(err.message, /rate limited \(HTTP 429/);
      assert.match(err.message, /asked to retry after 3600 s \(Retry-After: 3600\), longer than the 60 s this client waits/);
      return true;
    });
    assert.deepEqual(clock.waits, []);
    assert.equal(count('/manifests/'), 1);
  });

  test('a server that stays busy is asked at most retries + 1 times, each after its Retry-After', async () => {
    registry.handle((_req, res) => answerError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': '2' }));
    await assert.rejects(clientWith({ retries: 3 }).resolveManifest(ref()), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'busy', String(err));
      assert.match(err.message, /gave up after 3 retries/);
      return true;
    });
    assert.deepEqual(clock.waits, [2000, 2000, 2000]);
    assert.equal(count('/manifests/'), 4);
  });

  test('a Retry-After that is neither seconds nor a date leaves the wait to the client backoff', async () => {
    registry.handle((_req, res, index) => (index === 0 ? answerError(res, 503, 'UNAVAILABLE', { 'retry-after': 'soon' }) : answerManifest(res, MANIFEST)));
    await clientWith({ retryDelayMs: 400 }).resolveManifest(ref());
    assert.equal(clock.waits.length, 1);
    // The first backoff is the base delay with +-25% jitter.
    assert.ok(clock.waits[0]! >= 300 && clock.waits[0]! <= 500, String(clock.waits));
  });

  test('a token server answering 429 with Retry-After is asked again after that wait, and the pull goes on', async () => {
    const realm = `http://${registry.url}/token`;
    let tokenAnswers = 0;
    registry.handle((req, res) => {
      if (req.url?.startsWith('/token')) {
        tokenAnswers++;
        if (tokenAnswers === 1) answerError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': '4' });
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'fresh-token', expires_in: 300 }));
      } else if (req.headers.authorization === 'Bearer fresh-token') answerManifest(res, MANIFEST);
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="scripted"` }).end();
    });
    const resolved = await clientWith().resolveManifest(ref());
    assert.equal(resolved.digest, sha256Digest(MANIFEST));
    assert.deepEqual(clock.waits, [4000]);
    assert.equal(count('/token'), 2);
  });

  test('a token server asking for a wait beyond the bound fails the pull with an error naming the token server and its Retry-After', async () => {
    const realm = `http://${registry.url}/token`;
    registry.handle((req, res) => {
      if (req.url?.startsWith('/token')) answerError(res, 503, 'UNAVAILABLE', { 'retry-after': '120' });
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="scripted"` }).end();
    });
    await assert.rejects(clientWith().resolveManifest(ref()), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
      assert.match(err.message, /token server http:\/\/127\.0\.0\.1:\d+/);
      assert.match(err.message, /Retry-After: 120/);
      return true;
    });
    assert.equal(count('/token'), 1);
  });

  test('a blob chunk answered 503 with Retry-After is fetched again after that wait and the blob verifies', async () => {
    let refused = false;
    const laterChunk = `bytes=${2 * CHUNK}-`;
    registry.handle((req, res) => {
      if (!req.url?.includes('/blobs/')) return void res.writeHead(404).end();
      if (!refused && req.headers.range?.startsWith(laterChunk)) {
        refused = true;
        return answerError(res, 503, 'UNAVAILABLE', { 'retry-after': '3' });
      }
      answerBlob(req, res, LAYER);
    });
    const partial = path.join(dir, 'chunked.partial');
    await clientWith({ chunkBytes: CHUNK, concurrency: 2 }).downloadBlob(ref(), LAYER_DESCRIPTOR, partial);
    assert.deepEqual(await fs.readFile(partial), LAYER);
    assert.deepEqual(clock.waits, [3000]);
    assert.equal(registry.requests.filter((r) => r.headers.range?.startsWith(laterChunk)).length, 2);
  });

  test('a blob answered 429 with an HTTP-date Retry-After over one connection resumes after that wait', async () => {
    const at = new Date(clock.now() + 12_000).toUTCString();
    registry.handle((req, res, index) => (index === 0 ? answerError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': at }) : answerBlob(req, res, LAYER)));
    const partial = path.join(dir, 'sequential.partial');
    await clientWith({ concurrency: 1 }).downloadBlob(ref(), LAYER_DESCRIPTOR, partial);
    assert.deepEqual(await fs.readFile(partial), LAYER);
    assert.deepEqual(clock.waits, [12_000]);
  });

  test('a blob chunk whose Retry-After is beyond the bound fails the download with an error naming it', async () => {
    registry.handle((req, res) => (req.headers.range ? answerError(res, 503, 'UNAVAILABLE', { 'retry-after': '86400' }) : answerBlob(req, res, LAYER)));
    const partial = path.join(dir, 'refused.partial');
    await assert.rejects(clientWith({ chunkBytes: CHUNK, concurrency: 2 }).downloadBlob(ref(), LAYER_DESCRIPTOR, partial), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
      assert.match(err.message, new RegExp(`blob ${LAYER_DESCRIPTOR.digest}`));
      assert.match(err.message, /Retry-After: 86400\), longer than the 60 s this client waits/);
      return true;
    });
    assert.deepEqual(clock.waits, []);
  });
});
