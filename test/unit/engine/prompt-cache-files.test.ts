import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { enforceCacheBound, STALE_TEMP_MS } from '../../../src/engine/worker/prefix-cache-bound.js';
import { encodeTrailer, readStateTokens, readTrailer, type PrefixStateHeader } from '../../../src/engine/worker/prefix-state-file.js';
import { PREFIX_STATE_FORMAT, prefixStateKey, tokenBytes } from '../../../src/engine/worker/prefix-state-key.js';

const TOKENS = [5, 6, 7, 8];

/** A file shaped as llama.cpp writes a sequence state ('ggsq', version, count, tokens, cells), then our trailer. */
function stateFile(changes: Partial<PrefixStateHeader> = {}): { bytes: Buffer; header: PrefixStateHeader } {
  const preamble = Buffer.alloc(12);
  preamble.writeUInt32LE(0x67677371, 0);
  preamble.writeUInt32LE(3, 4);
  preamble.writeUInt32LE(TOKENS.length, 8);
  const state = Buffer.concat([preamble, tokenBytes(TOKENS), Buffer.alloc(64, 0xab)]);
  const header: PrefixStateHeader = {
    format: PREFIX_STATE_FORMAT,
    model: 'sha256:aa',
    build: 'llama.cpp@b1 prebuilt',
    key: prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', TOKENS),
    tokens: TOKENS.length,
    stateBytes: state.length,
    sha256: 'a'.repeat(64),
    ...changes,
  };
  return { bytes: Buffer.concat([state, encodeTrailer(header)]), header };
}

describe('the saved prefix file format', () => {
  let dir: string;
  before(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prefix-state-'))));
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  async function read(bytes: Buffer) {
    const file = path.join(dir, 'f.kv');
    await fs.writeFile(file, bytes);
    const handle = await fs.open(file, 'r');
    try {
      const header = await readTrailer(handle, bytes.length);
      const tokens = typeof header === 'string' ? undefined : await readStateTokens(handle, header);
      return { header, tokens };
    } finally {
      await handle.close();
    }
  }

  test('a written trailer reads back with the tokens llama.cpp recorded', async () => {
    const { bytes, header } = stateFile();
    const back = await read(bytes);
    assert.deepEqual(back.header, header);
    assert.deepEqual(Array.from(back.tokens as Uint32Array), TOKENS);
  });

  test('a truncated file, an empty one or a file without our trailer is refused with the reason', async () => {
    const { bytes } = stateFile();
    assert.match(String((await read(bytes.subarray(0, bytes.length - 1))).header), /no trailer/);
    assert.match(String((await read(Buffer.alloc(0))).header), /too short/);
    assert.match(String((await read(Buffer.alloc(200, 1))).header), /no trailer/);
  });

  test('a header whose sizes disagree with the file is refused before anything is read from where it points', async () => {
    assert.match(String((await read(stateFile({ stateBytes: 10 }).bytes)).header), /state bytes/);
    assert.match(String((await read(stateFile({ tokens: 1_000_000 }).bytes)).header), /token count out of bounds/);
    assert.match(String((await read(stateFile({ format: 99 }).bytes)).header), /format 99/);
    assert.match(String((await read(stateFile({ key: 'not hex' }).bytes)).header), /64 hex digits/);
  });

  test('a header length that points outside the file is refused', async () => {
    const { bytes } = stateFile();
    bytes.writeUInt32LE(0xffffff, bytes.length - 12);
    assert.match(String((await read(bytes)).header), /header length out of bounds/);
  });

  test('a token count that differs from llama.cpp\'s own is refused', async () => {
    const { bytes } = stateFile({ tokens: 3 });
    assert.match(String((await read(bytes)).tokens), /token count differs/);
  });
});

describe('the byte bound of the cache directory', () => {
  let root: string;
  before(async () => (root = await fs.mkdtemp(path.join(os.tmpdir(), 'prefix-bound-'))));
  after(async () => fs.rm(root, { recursive: true, force: true }));

  async function put(model: string, name: string, bytes: number, mtimeMs: number): Promise<string> {
    const dir = path.join(root, model);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    await fs.writeFile(file, Buffer.alloc(bytes));
    await fs.utimes(file, mtimeMs / 1000, mtimeMs / 1000);
    return file;
  }

  test('across models, the least recently used files go until the directory fits; stale temp files go too, fresh ones stay', async () => {
    const now = Date.now();
    const oldest = await put('m1', 'a.kv', 100, now - 30_000);
    const recent = await put('m1', 'b.kv', 100, now - 10_000);
    const middle = await put('m2', 'c.kv', 100, now - 20_000);
    const staleTemp = await put('m2', 'c.kv.1.0badbeef.tmp', 100, now - STALE_TEMP_MS - 1);
    const freshTemp = await put('m2', 'd.kv.1.0badbeef.tmp', 100, now - 1_000);
    const removed = await enforceCacheBound(root, 150, now);
    assert.deepEqual(removed.sort(), [middle, oldest, staleTemp].sort());
    for (const kept of [recent, freshTemp]) await fs.access(kept);
  });

  test('a missing directory is nothing to do', async () => {
    assert.deepEqual(await enforceCacheBound(path.join(root, 'absent'), 0), []);
  });
});
