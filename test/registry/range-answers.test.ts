/**
 * Servers that botch byte ranges, for a resumed download over one connection and for parallel
 * chunks: one that ignores Range (200 with the whole body), one that answers 416, one whose
 * Content-Range names other bytes than were asked, one that sends other bytes under the right
 * Content-Range. Each download either ends with exactly the blob or fails with an error saying
 * what went wrong; bytes that do not hash to the digest never become the blob.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { DOCKER_GGUF } from '../../src/models/media-types.js';
import { parseReference, RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { parseRange } from '../support/fake-cdn.js';
import { ManualRegistryClock } from '../support/registry-clock.js';
import { answerBlob, startScriptedRegistry, type ScriptedRegistry } from '../support/scripted-registry.js';

const CHUNK = 64 * 1024;
const BLOB = randomBytes(6 * CHUNK + 777);
const DESCRIPTOR = { mediaType: DOCKER_GGUF, digest: sha256Digest(BLOB), size: BLOB.length };
/** What a resumed download already holds. */
const PREFIX = 100_000;

/** A 206 carrying `body` under the Content-Range header `contentRange` (or none). */
function partialAnswer(res: ServerResponse, body: Buffer, contentRange: string | undefined): void {
  res.writeHead(206, { 'content-length': body.length, ...(contentRange === undefined ? {} : { 'content-range': contentRange }) }).end(body);
}

/** The start of the range a request asks for, or undefined without one. */
function rangeStart(req: IncomingMessage): number | undefined {
  const range = parseRange(req.headers.range, BLOB.length);
  return range === undefined || range === 'invalid' ? undefined : range.start;
}

describe('servers that answer byte ranges wrongly', () => {
  let registry: ScriptedRegistry;
  let dir: string;
  let clock: ManualRegistryClock;
  const clients: RegistryClient[] = [];
  const ref = () => parseReference(`${registry.url}/ai/ranges:latest`);
  const ranges = (): Array<string | undefined> => registry.requests.map((r) => r.headers.range as string | undefined);
  const client = (options: RegistryClientOptions = {}): RegistryClient => {
    const c = new RegistryClient({ clock, retryDelayMs: 0, retries: 2, ...options });
    clients.push(c);
    return c;
  };
  const sequential = (options: RegistryClientOptions = {}) => client({ concurrency: 1, ...options });
  const chunked = (options: RegistryClientOptions = {}) => client({ chunkBytes: CHUNK, concurrency: 2, ...options });
  /** A partial file that holds the first PREFIX bytes of the blob, as an interrupted download leaves it. */
  const resumable = async (name: string): Promise<string> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, BLOB.subarray(0, PREFIX));
    return file;
  };

  before(async () => {
    registry = await startScriptedRegistry((_req, res) => res.writeHead(404).end());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-ranges-'));
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

  describe('a download resumed over one connection', () => {
    test('a server that ignores Range and sends the whole blob with 200 replaces the kept prefix instead of appending to it', async () => {
      registry.handle((_req, res) => res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB));
      const partial = await resumable('ignored.partial');
      await sequential().downloadBlob(ref(), DESCRIPTOR, partial);
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.deepEqual(ranges(), [`bytes=${PREFIX}-`]);
    });

    test('a server that answers 416 to the resume is asked again for the whole blob', async () => {
      registry.handle((req, res) => (req.headers.range ? res.writeHead(416, { 'content-range': `bytes */${BLOB.length}`, 'content-length': 0 }).end() : answerBlob(req, res, BLOB)));
      const partial = await resumable('refused.partial');
      await sequential().downloadBlob(ref(), DESCRIPTOR, partial);
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.deepEqual(ranges(), [`bytes=${PREFIX}-`, undefined]);
    });

    test('a Content-Range that starts elsewhere than asked is not written; the blob is fetched whole instead', async () => {
      // The answer to the resume claims, and carries, the blob from byte 0.
      registry.handle((req, res) => (req.headers.range ? partialAnswer(res, BLOB, `bytes 0-${BLOB.length - 1}/${BLOB.length}`) : answerBlob(req, res, BLOB)));
      const partial = await resumable('elsewhere.partial');
      await sequential().downloadBlob(ref(), DESCRIPTOR, partial);
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.deepEqual(ranges(), [`bytes=${PREFIX}-`, undefined]);
    });

    test('a 206 without any Content-Range is not trusted either', async () => {
      registry.handle((req, res) => (req.headers.range ? partialAnswer(res, BLOB.subarray(PREFIX), undefined) : answerBlob(req, res, BLOB)));
      const partial = await resumable('unlabelled.partial');
      await sequential().downloadBlob(ref(), DESCRIPTOR, partial);
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.deepEqual(ranges(), [`bytes=${PREFIX}-`, undefined]);
    });

    test('without retries left the wrong range fails with an error that says so, and the kept prefix is gone', async () => {
      registry.handle((req, res) => partialAnswer(res, BLOB, `bytes 0-${BLOB.length - 1}/${BLOB.length}`));
      const partial = await resumable('no-retries.partial');
      await assert.rejects(sequential({ retries: 0 }).downloadBlob(ref(), DESCRIPTOR, partial), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
        assert.match(err.message, /answered a range request for blob sha256:[0-9a-f]{64} from byte 100000 with the wrong range \(Content-Range "bytes 0-\d+\/\d+"\)/);
        return true;
      });
      assert.equal((await fs.stat(partial)).size, 0, 'nothing the server sent was written');
    });

    test('other bytes under the right Content-Range fail the digest check and the partial is removed', async () => {
      const forged = Buffer.from(BLOB);
      forged.fill(0x41, PREFIX, PREFIX + 10);
      registry.handle((req, res) => answerBlob(req, res, forged));
      const partial = await resumable('forged.partial');
      await assert.rejects(sequential().downloadBlob(ref(), DESCRIPTOR, partial), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'digest_mismatch', String(err));
        assert.match(err.message, /received bytes hashing to sha256:[0-9a-f]{64}; the partial download was removed/);
        return true;
      });
      await assert.rejects(fs.stat(partial), { code: 'ENOENT' });
    });
  });

  describe('a download in parallel chunks', () => {
    test('a server that ignores Range is downloaded over one connection instead, and verifies', async () => {
      registry.handle((_req, res) => res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB));
      const partial = path.join(dir, 'chunks-ignored.partial');
      await chunked().downloadBlob(ref(), DESCRIPTOR, partial, { chunksPath: `${partial}.chunks` });
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.ok(ranges()[0]?.startsWith('bytes=0-'), 'it asked for a chunk first');
      assert.equal(ranges().at(-1), undefined, 'then for the whole blob');
      await assert.rejects(fs.stat(`${partial}.chunks`), { code: 'ENOENT' });
    });

    test('a server that answers 416 to chunks is downloaded over one connection instead, and verifies', async () => {
      registry.handle((req, res) => (req.headers.range ? res.writeHead(416, { 'content-range': `bytes */${BLOB.length}`, 'content-length': 0 }).end() : answerBlob(req, res, BLOB)));
      const partial = path.join(dir, 'chunks-refused.partial');
      await chunked().downloadBlob(ref(), DESCRIPTOR, partial, { chunksPath: `${partial}.chunks` });
      assert.deepEqual(await fs.readFile(partial), BLOB);
      assert.equal(ranges().at(-1), undefined, 'the last request asked for the whole blob');
    });

    test('a chunk answered with another Content-Range is retried, and once the retries are spent the error names its byte range', async () => {
      const third = 2 * CHUNK;
      registry.handle((req, res) => (rangeStart(req) === third ? partialAnswer(res, BLOB.subarray(0, CHUNK), `bytes 0-${CHUNK - 1}/${BLOB.length}`) : answerBlob(req, res, BLOB)));
      const partial = path.join(dir, 'chunks-elsewhere.partial');
      await assert.rejects(chunked({ retries: 2 }).downloadBlob(ref(), DESCRIPTOR, partial, { chunksPath: `${partial}.chunks` }), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'upstream', String(err));
        assert.match(err.message, new RegExp(`answered the range bytes ${2 * CHUNK}-${3 * CHUNK - 1} of blob sha256:[0-9a-f]{64} with the wrong range \\(gave up after 2 retries\\)`));
        return true;
      });
      assert.equal(registry.requests.filter((r) => r.headers.range === `bytes=${third}-${third + CHUNK - 1}`).length, 3);
      const sidecar = JSON.parse(await fs.readFile(`${partial}.chunks`, 'utf8')) as { done: number[] };
      assert.ok(!sidecar.done.includes(2), 'the chunk is not recorded as done');
      const kept = await fs.readFile(partial);
      assert.ok(kept.subarray(third, third + CHUNK).every((b) => b === 0), 'none of the wrong bytes reached the file');
    });

    test('a chunk that sends other bytes under the right Content-Range fails the digest check and nothing is kept', async () => {
      const forged = Buffer.from(BLOB);
      forged.fill(0x42, 3 * CHUNK, 3 * CHUNK + 5);
      registry.handle((req, res) => answerBlob(req, res, forged));
      const partial = path.join(dir, 'chunks-forged.partial');
      await assert.rejects(chunked().downloadBlob(ref(), DESCRIPTOR, partial, { chunksPath: `${partial}.chunks` }), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'digest_mismatch', String(err));
        return true;
      });
      await assert.rejects(fs.stat(partial), { code: 'ENOENT' });
      await assert.rejects(fs.stat(`${partial}.chunks`), { code: 'ENOENT' });
    });

    test('a chunk answered with more bytes than asked is cut at the chunk end and fails the download, naming the blob', async () => {
      // Content-Range starts where asked but the body runs to the end of the blob.
      registry.handle((req, res) => {
        const start = rangeStart(req);
        if (start === CHUNK) partialAnswer(res, BLOB.subarray(start), `bytes ${start}-${BLOB.length - 1}/${BLOB.length}`);
        else answerBlob(req, res, BLOB);
      });
      const partial = path.join(dir, 'chunks-long.partial');
      await assert.rejects(chunked().downloadBlob(ref(), DESCRIPTOR, partial, { chunksPath: `${partial}.chunks` }), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'digest_mismatch', String(err));
        assert.match(err.message, new RegExp(`sent more bytes than were asked for \\(past byte ${2 * CHUNK}\\)`));
        return true;
      });
      await assert.rejects(fs.stat(partial), { code: 'ENOENT' });
    });
  });
});
