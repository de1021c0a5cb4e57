import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ByteRange, mergeRanges } from '../../../src/registry/byte-ranges.js';
import { ChunkPlanner, DEFAULT_MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, PROBE_CHUNK_BYTES } from '../../../src/registry/chunk-planner.js';

const MiB = 1024 * 1024;
const MB = 1e6;

/** Takes every chunk the planner hands out. */
function drain(planner: ChunkPlanner): ByteRange[] {
  const chunks: ByteRange[] = [];
  for (let c = planner.next(); c !== undefined; c = planner.next()) chunks.push(c);
  return chunks;
}

/**
 * Runs a download in virtual time: every connection moves `rate` bytes/s and pays `overheadS` per
 * request (connection, redirect); the first connection is measured after `probeMs` or its probe
 * chunk, like ConnectionRamp. Returns the seconds to the last byte and the connections used.
 */
function simulate(size: number, rate: number, maxConnections: number, probeMs = 250, overheadS = 0.05): { seconds: number; connections: number; chunks: ByteRange[] } {
  const planner = new ChunkPlanner({ size, maxConnections });
  const chunks: ByteRange[] = [];
  const probe = planner.next()!;
  chunks.push(probe);
  const probeEnds = overheadS + (probe[1] - probe[0]) / rate;
  const measuredAt = Math.min(probeMs / 1000, probeEnds);
  // Bytes per second as the ramp sees them: counted from the first request, its overhead included.
  const moved = Math.max(0, measuredAt - overheadS) * rate;
  planner.measured(moved / measuredAt);
  /** When each connection is free again. */
  const free = [probeEnds, ...Array.from({ length: planner.connections - 1 }, () => measuredAt)];
  for (;;) {
    const i = free.indexOf(Math.min(...free));
    const chunk = planner.next();
    if (chunk === undefined) break;
    chunks.push(chunk);
    free[i] = free[i]! + overheadS + (chunk[1] - chunk[0]) / rate;
  }
  return { seconds: Math.max(...free), connections: planner.connections, chunks };
}

function assertCoversExactly(chunks: ByteRange[], expected: ByteRange[]): void {
  const sorted = [...chunks].sort((a, b) => a[0] - b[0]);
  for (const [s, e] of sorted) assert.ok(Number.isSafeInteger(s) && Number.isSafeInteger(e), `chunk ${s}-${e} has a fractional bound`);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]![0] >= sorted[i - 1]![1], `chunks ${sorted[i - 1]} and ${sorted[i]} overlap`);
  assert.deepEqual(mergeRanges(sorted), mergeRanges(expected));
}

describe('the chunk planner', () => {
  test('a fast link keeps its one connection and takes the rest in the largest chunks', () => {
    const size = 500 * MB;
    const planner = new ChunkPlanner({ size, maxConnections: 8 });
    assert.equal(planner.probing, true);
    assert.equal(planner.connections, 1);
    const probe = planner.next()!;
    assert.deepEqual(probe, [0, PROBE_CHUNK_BYTES]);
    assert.equal(planner.measured(900 * MB), 1);
    const rest = drain(planner);
    assert.ok(rest.slice(0, -1).every(([s, e]) => e - s === DEFAULT_MAX_CHUNK_BYTES));
    assertCoversExactly([probe, ...rest], [[0, size]]);
  });

  test('a CDN capping each connection at 8 MB/s gets every connection for a 144 MB layer, in chunks of at least half a second each', () => {
    const size = 144 * MB;
    const planner = new ChunkPlanner({ size, maxConnections: 8 });
    const probe = planner.next()!;
    assert.equal(planner.measured(8 * MB), 8);
    const rest = drain(planner);
    assert.ok(rest.length >= 8, `only ${rest.length} chunks for 8 connections`);
    for (const [s, e] of rest.slice(0, -1)) assert.ok(e - s >= 4 * MB, `chunk ${s}-${e} is shorter than half a second at 8 MB/s`);
    assertCoversExactly([probe, ...rest], [[0, size]]);
  });

  test('a connection at 40 MB/s gets the company it needs to reach 100 MB/s and no more', () => {
    const size = 1000 * MB;
    const planner = new ChunkPlanner({ size, maxConnections: 8 });
    const probe = planner.next()!;
    assert.equal(planner.measured(40 * MB + 0.37), 3);
    assertCoversExactly([probe, ...drain(planner)], [[0, size]]);
  });

  test('a layer of a few MB behind a capped CDN is still shared among several connections', () => {
    const size = 9 * MB;
    const planner = new ChunkPlanner({ size, maxConnections: 8 });
    const probe = planner.next()!;
    assert.ok(probe[1] - probe[0] <= size / 4, `the probe takes ${probe[1] - probe[0]} of ${size} bytes`);
    assert.ok(planner.measured(8 * MB) >= 4);
    const rest = drain(planner);
    assert.ok(rest.length >= 3);
    assertCoversExactly([probe, ...rest], [[0, size]]);
  });

  test('adaptive chunks shrink towards the end so that the connections finish together', () => {
    const { chunks } = simulate(1e9, 8 * MB, 8);
    const sizes = chunks.slice(1).map(([s, e]) => e - s);
    assert.ok(sizes[0]! > 4 * sizes.at(-2)!, `first ${sizes[0]}, last but one ${sizes.at(-2)}`);
    for (let i = 1; i < sizes.length - 1; i++) assert.ok(sizes[i]! <= sizes[i - 1]!, 'chunk sizes never grow');
  });

  test('in virtual time a capped CDN pull beats one connection by at least 3x at 144 MB and 6x at 1 GB', () => {
    for (const [size, goal] of [[144 * MB, 3], [1e9, 6]] as const) {
      const oneConnection = size / (8 * MB);
      const { seconds, connections } = simulate(size, 8 * MB, 8);
      assert.equal(connections, 8);
      assert.ok(oneConnection / seconds >= goal, `${size} bytes: ${(oneConnection / seconds).toFixed(2)}x`);
    }
  });

  test('on a fast link the whole layer costs a handful of requests', () => {
    const { chunks, connections } = simulate(1e9, 1000 * MB, 8);
    assert.equal(connections, 1);
    assert.ok(chunks.length <= Math.ceil(1e9 / DEFAULT_MAX_CHUNK_BYTES) + 1, `${chunks.length} requests`);
  });

  test('a resumed download fetches exactly the gaps its record leaves, whatever plan wrote the record', () => {
    const size = 100 * MiB + 123;
    // Finished ranges of an older plan: a fixed 10 MiB grid with holes, and a sequential prefix.
    const done: ByteRange[] = [[0, 3 * MiB], [10 * MiB, 20 * MiB], [40 * MiB, 50 * MiB], [90 * MiB, 100 * MiB + 123]];
    const planner = new ChunkPlanner({ size, done, maxConnections: 8 });
    const probe = planner.next()!;
    assert.equal(probe[0], 3 * MiB);
    planner.measured(8 * MB);
    const chunks = [probe, ...drain(planner)];
    assertCoversExactly(chunks, [[3 * MiB, 10 * MiB], [20 * MiB, 40 * MiB], [50 * MiB, 90 * MiB]]);
    for (const [s, e] of chunks) {
      for (const [ds, de] of done) assert.ok(e <= ds || s >= de, `chunk ${s}-${e} refetches ${ds}-${de}`);
    }
  });

  test('a download that is already whole plans nothing', () => {
    const planner = new ChunkPlanner({ size: 10 * MiB, done: [[0, 4 * MiB], [4 * MiB, 10 * MiB]], maxConnections: 8 });
    assert.equal(planner.unassignedBytes, 0);
    assert.equal(planner.next(), undefined);
  });

  test('a fixed chunk size is cut exactly, and small fixed chunks use every connection without a probe', () => {
    const size = 3 * MiB + 12_345;
    const planner = new ChunkPlanner({ size, maxConnections: 4, fixedChunkBytes: 256 * 1024 });
    assert.equal(planner.probing, false);
    assert.equal(planner.connections, 4);
    const chunks = drain(planner);
    assert.equal(chunks.length, Math.ceil(size / (256 * 1024)));
    assert.ok(chunks.slice(0, -1).every(([s, e]) => e - s === 256 * 1024));
    assertCoversExactly(chunks, [[0, size]]);
  });

  test('large fixed chunks are still probed before more connections open', () => {
    const planner = new ChunkPlanner({ size: 500 * MB, maxConnections: 8, fixedChunkBytes: 64 * MiB });
    assert.equal(planner.probing, true);
    assert.deepEqual(planner.next(), [0, 64 * MiB]);
    assert.equal(planner.measured(10 * MB), 8);
  });

  test('one allowed connection is never probed and never widened', () => {
    const planner = new ChunkPlanner({ size: 500 * MB, maxConnections: 1 });
    assert.equal(planner.probing, false);
    assert.equal(planner.measured(1 * MB), 1);
  });

  test('only the first measurement counts', () => {
    const planner = new ChunkPlanner({ size: 500 * MB, maxConnections: 8 });
    planner.next();
    assert.equal(planner.measured(5 * MB), 8);
    assert.equal(planner.measured(900 * MB), 8);
  });

  test('no sliver shorter than half a minimum chunk is left for a request of its own', () => {
    const size = 20 * MiB + 1000;
    const planner = new ChunkPlanner({ size, maxConnections: 8 });
    planner.next();
    planner.measured(900 * MB);
    const rest = drain(planner);
    assert.equal(rest.length, 1);
    assert.ok(rest.every(([s, e]) => e - s >= MIN_CHUNK_BYTES / 2));
  });
});
