import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseReference, RegistryClient, type Descriptor, type Reference } from '../../src/registry/index.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

/** The chunk record the caller keeps next to a partial (the store does the same). */
const chunksOf = (partial: string): string => `${partial}.chunks`;

const CHUNK = 256 * 1024;

describe('resumable and chunked downloads through the CDN', () => {
  let registry: TestRegistry;
  let dir: string;
  let ref: Reference;
  let small: { data: Buffer; descriptor: Descriptor };
  let large: { data: Buffer; descriptor: Descriptor };
  /** Large enough for an adaptive chunked download (MIN_CHUNKED_BYTES). */
  let adaptive: { data: Buffer; descriptor: Descriptor };

  before(async () => {
    registry = await startRegistry('token');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-resume-'));
    const smallData = randomBytes(1_000_000);
    const largeData = randomBytes(3 * 1024 * 1024 + 12_345);
    const adaptiveData = randomBytes(17 * 1024 * 1024 + 777);
    await pushArtifact(registry, 'ai/resume', 'v1', { layers: [smallData, largeData, adaptiveData] });
    ref = parseReference(registry.reference('ai/resume', 'v1'));
    const client = new RegistryClient();
    const { manifest } = await client.resolveManifest(ref);
    client.dispose();
    small = { data: smallData, descriptor: manifest.layers[0]! };
    large = { data: largeData, descriptor: manifest.layers[1]! };
    adaptive = { data: adaptiveData, descriptor: manifest.layers[2]! };
  });
  after(async () => {
    await registry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a download cut mid-blob resumes with a Range request that survives the redirect', async () => {
    const partial = path.join(dir, 'cut.partial');
    const cdn = registry.cdn!;
    cdn.failAfterBytes = 300_000;
    const once = new RegistryClient({ retries: 0 });
    try {
      await assert.rejects(once.downloadBlob(ref, small.descriptor, partial), (err: unknown) => err instanceof AppError && err.code === 'unavailable');
    } finally {
      once.dispose();
      cdn.failAfterBytes = undefined;
    }
    const kept = (await fs.stat(partial)).size;
    assert.equal(kept, 300_000, 'every byte sent before the cut was kept');

    cdn.resetStats();
    const progress: number[] = [];
    const client = new RegistryClient({ retries: 0 });
    try {
      await client.downloadBlob(ref, small.descriptor, partial, { onProgress: (n) => progress.push(n) });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), small.data);
    const stats = cdn.stats();
    assert.equal(stats.ranges, 1);
    assert.equal(stats.bytes, small.data.length - kept);
    assert.equal(stats.rejectedAuth, 0);
    assert.equal(progress[0], kept);
    assert.equal(progress.at(-1), small.data.length);
  });

  test('with retries enabled a connection cut every 200 kB still completes by resuming each time', async () => {
    const partial = path.join(dir, 'retried.partial');
    const cdn = registry.cdn!;
    cdn.resetStats();
    cdn.failAfterBytes = 200_000;
    const client = new RegistryClient({ retries: 8, retryDelayMs: 5, concurrency: 1 });
    try {
      await client.downloadBlob(ref, small.descriptor, partial);
    } finally {
      client.dispose();
      cdn.failAfterBytes = undefined;
    }
    assert.deepEqual(await fs.readFile(partial), small.data);
    assert.equal(cdn.stats().ranges, Math.ceil(small.data.length / 200_000) - 1);
  });

  test('a blob larger than the chunk size downloads as parallel ranged chunks and verifies', async () => {
    const partial = path.join(dir, 'chunked.partial');
    const cdn = registry.cdn!;
    cdn.resetStats();
    const progress: number[] = [];
    const client = new RegistryClient({ chunkBytes: CHUNK, concurrency: 4 });
    try {
      await client.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial), onProgress: (n) => progress.push(n) });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), large.data);
    await assert.rejects(fs.stat(chunksOf(partial)), { code: 'ENOENT' });
    const stats = cdn.stats();
    assert.equal(stats.ranges, Math.ceil(large.data.length / CHUNK));
    assert.equal(stats.bytes, large.data.length);
    assert.equal(stats.rejectedAuth, 0);
    assert.equal(progress.at(-1), large.data.length);
  });

  test('a cancelled chunked download resumes only the chunks its sidecar does not list', async () => {
    const partial = path.join(dir, 'chunked-resume.partial');
    const cdn = registry.cdn!;
    const chunkCount = Math.ceil(large.data.length / CHUNK);
    // Chunks from the fifth on stop after their first bytes: with two connections, chunks 0-3
    // finish, the two connections wait in chunks 4 and 5, and the cancellation lands there.
    const hold = cdn.hold({ afterBytes: 1000, match: ({ range }) => Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? -1) >= 4 * CHUNK });
    const controller = new AbortController();
    const first = new RegistryClient({ chunkBytes: CHUNK, concurrency: 2 });
    try {
      const download = first.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial), signal: controller.signal });
      await hold.reached(2);
      controller.abort();
      await assert.rejects(download, (err: unknown) => err instanceof AppError && err.code === 'aborted');
    } finally {
      first.dispose();
      hold.stop();
    }
    // The sidecar lists the finished byte ranges, [start, end): here the first four chunks.
    const sidecar = JSON.parse(await fs.readFile(chunksOf(partial), 'utf8')) as { done: Array<[number, number]> };
    assert.deepEqual(sidecar.done, Array.from({ length: 4 }, (_, k) => [k * CHUNK, (k + 1) * CHUNK]));

    cdn.resetStats();
    const second = new RegistryClient({ chunkBytes: CHUNK, concurrency: 4 });
    try {
      await second.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      second.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), large.data);
    const asked = cdn.stats().requested.map((r) => r.range);
    const wanted = Array.from({ length: chunkCount - 4 }, (_, k) => {
      const start = (k + 4) * CHUNK;
      return `bytes=${start}-${Math.min(large.data.length, start + CHUNK) - 1}`;
    });
    assert.deepEqual([...asked].sort(), [...wanted].sort(), 'exactly the chunks the sidecar did not list were asked for');
    await assert.rejects(fs.stat(chunksOf(partial)), { code: 'ENOENT' });
  });

  test('a chunked download cut mid-chunk fails without retries and the next attempt completes it', async () => {
    const partial = path.join(dir, 'chunked-cut.partial');
    const cdn = registry.cdn!;
    cdn.failAfterBytes = 100_000;
    const once = new RegistryClient({ chunkBytes: CHUNK, concurrency: 4, retries: 0 });
    try {
      await assert.rejects(once.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial) }), (err: unknown) => err instanceof AppError && err.code === 'unavailable');
    } finally {
      once.dispose();
      cdn.failAfterBytes = undefined;
    }
    assert.equal((await fs.stat(partial)).size, large.data.length);
    const client = new RegistryClient({ chunkBytes: CHUNK, concurrency: 4, retries: 0 });
    try {
      await client.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), large.data);
  });

  for (const hashPlacement of ['inline', 'worker'] as const) {
    test(`hashing ${hashPlacement === 'inline' ? 'on the receiving thread' : 'in a worker thread'}, a resumed download verifies over many connections and over one`, async () => {
      // Small fixed chunks over four connections land ahead of the hash's front; the kept prefix is hashed from the file.
      const kept = 3 * CHUNK + 1234;
      for (const concurrency of [4, 1]) {
        const partial = path.join(dir, `${hashPlacement}-${concurrency}.partial`);
        await fs.writeFile(partial, adaptive.data.subarray(0, kept));
        const cdn = registry.cdn!;
        cdn.resetStats();
        const client = new RegistryClient({ hashPlacement, concurrency, chunkBytes: concurrency > 1 ? CHUNK : undefined });
        try {
          await client.downloadBlob(ref, adaptive.descriptor, partial, { chunksPath: chunksOf(partial) });
        } finally {
          client.dispose();
        }
        assert.deepEqual(await fs.readFile(partial), adaptive.data);
        assert.equal(cdn.stats().bytes, adaptive.data.length - kept, `the kept prefix was not fetched again (${concurrency} connections)`);
      }
    });
  }

  test('a sequential partial is reused by a chunked download for the whole chunks it holds', async () => {
    const partial = path.join(dir, 'prefix.partial');
    await fs.writeFile(partial, large.data.subarray(0, 2 * CHUNK + 1000));
    const cdn = registry.cdn!;
    cdn.resetStats();
    const client = new RegistryClient({ chunkBytes: CHUNK, concurrency: 4 });
    try {
      await client.downloadBlob(ref, large.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), large.data);
    assert.equal(cdn.stats().ranges, Math.ceil(large.data.length / CHUNK) - 2);
  });

  test('a CDN that caps each connection gets several connections at once from an adaptive download', async () => {
    const partial = path.join(dir, 'adaptive.partial');
    const cdn = registry.cdn!;
    cdn.resetStats();
    // Far below the rate at which one connection is left alone, whatever the machine's load.
    cdn.throttleBytesPerSecond = 2 * 1024 * 1024;
    const client = new RegistryClient();
    try {
      await client.downloadBlob(ref, adaptive.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      client.dispose();
      cdn.throttleBytesPerSecond = undefined;
    }
    assert.deepEqual(await fs.readFile(partial), adaptive.data);
    const stats = cdn.stats();
    assert.ok(stats.peakConcurrent >= 3, `at most ${stats.peakConcurrent} connections at once`);
    assert.equal(stats.bytes, adaptive.data.length);
  });

  test('a download cancelled under fixed chunks resumes under the adaptive plan and fetches only the bytes its record lacks', async () => {
    const partial = path.join(dir, 'replanned.partial');
    const cdn = registry.cdn!;
    cdn.throttleBytesPerSecond = 2 * 1024 * 1024;
    const controller = new AbortController();
    const first = new RegistryClient({ chunkBytes: CHUNK, concurrency: 2 });
    try {
      await assert.rejects(
        first.downloadBlob(ref, adaptive.descriptor, partial, { chunksPath: chunksOf(partial), signal: controller.signal, onProgress: (n) => n >= 6 * CHUNK && controller.abort() }),
        (err: unknown) => err instanceof AppError && err.code === 'aborted',
      );
    } finally {
      first.dispose();
      cdn.throttleBytesPerSecond = undefined;
    }
    const sidecar = JSON.parse(await fs.readFile(chunksOf(partial), 'utf8')) as { done: Array<[number, number]> };
    const kept = sidecar.done.reduce((sum, [s, e]) => sum + e - s, 0);
    assert.ok(kept >= CHUNK && kept < adaptive.data.length, `kept ${kept} bytes`);

    // The cancelled connections' paced bodies must not be counted as the resumed pull's.
    await cdn.whenIdle();
    cdn.resetStats();
    const second = new RegistryClient();
    try {
      await second.downloadBlob(ref, adaptive.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      second.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), adaptive.data);
    assert.equal(cdn.stats().bytes, adaptive.data.length - kept);
    await assert.rejects(fs.stat(chunksOf(partial)), { code: 'ENOENT' });
  });

  test('a chunk record in the older numbered form is read as the byte ranges it stands for', async () => {
    const partial = path.join(dir, 'legacy.partial');
    const file = Buffer.alloc(adaptive.data.length);
    adaptive.data.copy(file, 0, 0, 2 * CHUNK);
    adaptive.data.copy(file, 5 * CHUNK, 5 * CHUNK, 6 * CHUNK);
    await fs.writeFile(partial, file);
    await fs.writeFile(chunksOf(partial), JSON.stringify({ digest: adaptive.descriptor.digest, size: adaptive.data.length, chunkBytes: CHUNK, done: [0, 1, 5] }));
    const cdn = registry.cdn!;
    cdn.resetStats();
    // One connection: the record alone sends it down the chunked path.
    const client = new RegistryClient({ concurrency: 1 });
    try {
      await client.downloadBlob(ref, adaptive.descriptor, partial, { chunksPath: chunksOf(partial) });
    } finally {
      client.dispose();
    }
    assert.deepEqual(await fs.readFile(partial), adaptive.data);
    assert.equal(cdn.stats().bytes, adaptive.data.length - 3 * CHUNK);
  });
});
