/**
 * A registry that accepts a request and then sends nothing, or trickles bytes, must not hold a
 * pull forever. The scripted registry stalls until the client gives up on it (its connection
 * closes), so the tests wait on that event, never on a clock of their own.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServerResponse } from 'node:http';
import { AppError } from '../../src/errors.js';
import { DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { answerManifest, modelManifest, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

/** Short, so that each stalled attempt ends quickly; the outcome does not depend on it. */
const STALL_TIMEOUT_MS = 150;
const BLOB = Buffer.alloc(256 * 1024, 7);
const BLOB_DESCRIPTOR = { mediaType: DOCKER_GGUF, digest: sha256Digest(BLOB), size: BLOB.length };
const CONFIG = Buffer.from('{"config":{"format":"gguf"}}');
const MANIFEST = modelManifest(CONFIG, [BLOB]);

/** Sends the head and `prefix` of `body`, then nothing until the client hangs up. */
function stallAfter(res: ServerResponse, body: Buffer, prefix: number, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-length': body.length, ...headers });
  res.write(body.subarray(0, prefix));
}

/** Sends one byte of `body` at a time, a little apart, until the client hangs up. */
function trickle(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-length': body.length });
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < body.length) res.write(body.subarray(sent, ++sent));
  }, 5);
  res.once('close', () => clearInterval(timer));
}

describe('stalled registries', () => {
  let registry: ScriptedRegistry;
  let dir: string;
  /** Connections the client gave up on, in order of request. */
  let hungUp: number[];
  const hangUps = new EventEmitter();
  /** Resolves once the client has given up on `count` connections. */
  const hungUpOn = (count: number): Promise<number[]> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (hungUp.length < count) return;
        hangUps.off('hang-up', check);
        resolve(hungUp);
      };
      hangUps.on('hang-up', check);
      check();
    });
  const ref = (repo: string) => parseReference(`${registry.url}/${repo}:latest`);

  before(async () => {
    registry = await startScriptedRegistry((_req, res) => res.writeHead(404).end());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-stall-'));
  });
  after(async () => {
    await registry.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Installs `handler`, noting each request whose connection closes before its answer ended. */
  const script = (handler: (res: ServerResponse, index: number) => void): void => {
    registry.requests.length = 0;
    hungUp = [];
    registry.handle((req, res, index) => {
      res.once('close', () => {
        if (res.writableFinished) return;
        hungUp.push(index);
        hangUps.emit('hang-up');
      });
      handler(res, index);
    });
  };

  test('a blob whose registry sends the head and then nothing fails after the retries with a message naming the stall', async () => {
    script((res) => stallAfter(res, BLOB, 0));
    const client = new RegistryClient({ stallTimeoutMs: STALL_TIMEOUT_MS, retries: 1, retryDelayMs: 1 });
    try {
      await assert.rejects(client.downloadBlob(ref('ai/silent'), BLOB_DESCRIPTOR, path.join(dir, 'silent')), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'unavailable', String(err));
        assert.match(err.message, /127\.0\.0\.1:\d+ sent nothing for 150 ms \(registry stall timeout\) \(gave up after 1 retry\)$/);
        return true;
      });
    } finally {
      client.dispose();
    }
    assert.equal(registry.requests.length, 2, 'the first attempt and one retry');
    assert.deepEqual(await hungUpOn(2), [0, 1]);
  });

  test('a blob whose registry trickles bytes (so the socket is never idle) is abandoned as stalled', async () => {
    script((res) => trickle(res, BLOB));
    const client = new RegistryClient({ stallTimeoutMs: STALL_TIMEOUT_MS, retries: 0 });
    try {
      await assert.rejects(client.downloadBlob(ref('ai/trickle'), BLOB_DESCRIPTOR, path.join(dir, 'trickle')), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'unavailable', String(err));
        assert.match(err.message, /stalled: it sent \d+ bytes in the last 0\.15 s, less than the 16384 required \(registry stall timeout 0\.15 s\)/);
        return true;
      });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await hungUpOn(1), [0]);
  });

  test('a manifest that stalls halfway is asked for again and the retry completes the pull of it', async () => {
    script((res, index) => {
      if (index === 0) stallAfter(res, MANIFEST, MANIFEST.length >> 1, { 'content-type': OCI_MANIFEST });
      else answerManifest(res, MANIFEST);
    });
    const client = new RegistryClient({ stallTimeoutMs: STALL_TIMEOUT_MS, retries: 1, retryDelayMs: 1 });
    try {
      const resolved = await client.resolveManifest(ref('ai/slow-manifest'));
      assert.equal(resolved.digest, sha256Digest(MANIFEST));
    } finally {
      client.dispose();
    }
    assert.deepEqual(await hungUpOn(1), [0]);
  });

  test('a manifest trickled byte by byte is abandoned as stalled', async () => {
    script((res) => trickle(res, Buffer.concat([MANIFEST, Buffer.alloc(64 * 1024, 32)])));
    const client = new RegistryClient({ stallTimeoutMs: STALL_TIMEOUT_MS, retries: 0 });
    try {
      await assert.rejects(client.resolveManifest(ref('ai/trickled-manifest')), /stalled: it sent \d+ bytes/);
    } finally {
      client.dispose();
    }
  });
});
