import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GgufValueType } from '../../../src/gguf/constants.js';
import { GGML_TYPE } from '../../../src/gguf/ggml-types.js';
import { gguf, kv } from '../../../src/gguf/metadata-values.js';
import { quantizeQ8_0 } from '../../../src/gguf/quantize.js';
import { readGgufFile } from '../../../src/gguf/reader.js';
import { isGgufArray } from '../../../src/gguf/types.js';
import { writeGgufFile } from '../../../src/gguf/writer.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-rw-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('GGUF writer and reader', () => {
  test('every metadata value type written is read back with its type and value', async () => {
    const file = path.join(dir, 'values.gguf');
    await writeGgufFile({
      path: file,
      metadata: [
        kv('general.alignment', gguf.u32(64)),
        kv('u8', { type: GgufValueType.UINT8, value: 255 }),
        kv('i8', { type: GgufValueType.INT8, value: -128 }),
        kv('u16', { type: GgufValueType.UINT16, value: 65535 }),
        kv('i16', { type: GgufValueType.INT16, value: -32768 }),
        kv('u32', gguf.u32(4294967295)),
        kv('i32', gguf.i32(-7)),
        kv('f32', gguf.f32(1e-5)),
        kv('f64', { type: GgufValueType.FLOAT64, value: 0.1 }),
        kv('bool', gguf.bool(true)),
        kv('string', gguf.str('héllo {{ x }}')),
        kv('u64 small', gguf.u64(12345)),
        kv('u64 huge', gguf.u64(2n ** 63n + 5n)),
        kv('i64', { type: GgufValueType.INT64, value: -(2n ** 60n) }),
        kv('strings', gguf.array(GgufValueType.STRING, ['a', 'bc', ''])),
        kv('nested', gguf.array(GgufValueType.ARRAY, [gguf.array(GgufValueType.INT32, [1, 2]), gguf.array(GgufValueType.STRING, ['x'])])),
      ],
      tensors: [],
    });
    const read = await readGgufFile(file);
    const get = (key: string) => read.metadata.get(key);
    assert.equal(read.version, 3);
    assert.equal(read.alignment, 64);
    assert.deepEqual([...read.metadata.keys()].slice(0, 3), ['general.alignment', 'u8', 'i8']);
    assert.deepEqual(get('u8'), { type: GgufValueType.UINT8, value: 255 });
    assert.deepEqual(get('i8'), { type: GgufValueType.INT8, value: -128 });
    assert.deepEqual(get('u16'), { type: GgufValueType.UINT16, value: 65535 });
    assert.deepEqual(get('i16'), { type: GgufValueType.INT16, value: -32768 });
    assert.deepEqual(get('u32'), { type: GgufValueType.UINT32, value: 4294967295 });
    assert.deepEqual(get('i32'), { type: GgufValueType.INT32, value: -7 });
    assert.deepEqual(get('f32'), { type: GgufValueType.FLOAT32, value: 1e-5 });
    assert.deepEqual(get('f64'), { type: GgufValueType.FLOAT64, value: 0.1 });
    assert.deepEqual(get('bool'), { type: GgufValueType.BOOL, value: true });
    assert.deepEqual(get('string'), { type: GgufValueType.STRING, value: 'héllo {{ x }}' });
    assert.deepEqual(get('u64 small'), { type: GgufValueType.UINT64, value: 12345 });
    assert.deepEqual(get('u64 huge'), { type: GgufValueType.UINT64, value: 2n ** 63n + 5n });
    assert.deepEqual(get('i64'), { type: GgufValueType.INT64, value: -(2n ** 60n) });
    assert.deepEqual(get('strings')?.value, { itemType: GgufValueType.STRING, length: 3, items: ['a', 'bc', ''], truncated: false });
    const nested = get('nested')?.value;
    assert.ok(isGgufArray(nested));
    assert.equal(nested.itemType, GgufValueType.ARRAY);
    assert.deepEqual(nested.items[0], { itemType: GgufValueType.INT32, length: 2, items: [1, 2], truncated: false });
    assert.deepEqual(nested.items[1], { itemType: GgufValueType.STRING, length: 1, items: ['x'], truncated: false });
  });

  test('long arrays keep their length but only the first items, and reading continues after them', async () => {
    const file = path.join(dir, 'long.gguf');
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`);
    await writeGgufFile({
      path: file,
      metadata: [
        kv('words', gguf.array(GgufValueType.STRING, words)),
        kv('numbers', gguf.array(GgufValueType.UINT32, Array.from({ length: 300 }, (_, i) => i))),
        kv('after', gguf.str('still here')),
      ],
      tensors: [],
    });
    const read = await readGgufFile(file, { maxArrayItems: 10 });
    const wordsRead = read.metadata.get('words')?.value;
    assert.ok(isGgufArray(wordsRead));
    assert.equal(wordsRead.length, 300);
    assert.equal(wordsRead.truncated, true);
    assert.deepEqual(wordsRead.items, words.slice(0, 10));
    const numbers = read.metadata.get('numbers')?.value;
    assert.ok(isGgufArray(numbers));
    assert.deepEqual([numbers.length, numbers.items.length, numbers.items[9]], [300, 10, 9]);
    assert.equal(read.metadata.get('after')?.value, 'still here');
  });

  test('a vocabulary larger than the read window, with multi-byte and empty strings, reads back exactly, kept or stepped over', async () => {
    const file = path.join(dir, 'vocabulary.gguf');
    const pieces = ['', 'a', 'é', '日本語', '🙂', ' the', '<|im_start|>', 'x'.repeat(300)];
    const words = Array.from({ length: 30_000 }, (_, i) => `${pieces[i % pieces.length]}${i % 7 === 0 ? '' : i}`);
    await writeGgufFile({ path: file, metadata: [kv('words', gguf.array(GgufValueType.STRING, words)), kv('after', gguf.str('still here'))], tensors: [] });
    assert.ok((await fs.stat(file)).size > 4 * 65_536, 'the strings cross several read windows');
    const whole = await readGgufFile(file, { maxArrayItems: words.length });
    const all = whole.metadata.get('words')?.value;
    assert.ok(isGgufArray(all));
    assert.deepEqual(all.items, words);
    assert.equal(whole.metadata.get('after')?.value, 'still here');
    const head = await readGgufFile(file, { maxArrayItems: 5 });
    const first = head.metadata.get('words')?.value;
    assert.ok(isGgufArray(first));
    assert.deepEqual([first.items, first.length], [words.slice(0, 5), words.length]);
    assert.equal(head.metadata.get('after')?.value, 'still here', 'reading continues after the strings stepped over');
  });

  test('a string of an array whose length runs past the end of the file is refused, naming its index', async () => {
    const file = path.join(dir, 'long-string.gguf');
    const words = Array.from({ length: 40 }, (_, i) => (i === 25 ? 'MARKER' : `w${i}`));
    await writeGgufFile({ path: file, metadata: [kv('words', gguf.array(GgufValueType.STRING, words))], tensors: [] });
    const bytes = await fs.readFile(file);
    const at = bytes.indexOf('MARKER') - 8;
    bytes.writeBigUInt64LE(1n << 20n, at);
    await fs.writeFile(file, bytes);
    await assert.rejects(readGgufFile(file), /\[25\] length 1048576 at byte \d+ runs past the end of the file/);
  });

  test('tensor infos, offsets and data are laid out at the alignment and read back', async () => {
    const file = path.join(dir, 'tensors.gguf');
    const norm = f32Bytes([1, 2, 3]);
    const weights = new Float32Array(64).map((_, i) => i / 10 - 3);
    const q8 = quantizeQ8_0(weights);
    const result = await writeGgufFile({
      path: file,
      metadata: [kv('general.architecture', gguf.str('test'))],
      tensors: [
        { name: 'norm', dims: [3], type: GGML_TYPE.F32, data: () => [norm] },
        { name: 'weight', dims: [32, 2], type: GGML_TYPE.Q8_0, data: () => [q8.subarray(0, 10), q8.subarray(10)] },
      ],
    });
    const read = await readGgufFile(file);
    assert.deepEqual(read.tensors, [
      { name: 'norm', dims: [3], type: GGML_TYPE.F32, offset: 0 },
      { name: 'weight', dims: [32, 2], type: GGML_TYPE.Q8_0, offset: 32 },
    ]);
    assert.equal(read.dataOffset % 32, 0);
    assert.equal(read.fileSize, result.size);
    assert.equal(result.size, read.dataOffset + 32 + 68);
    const bytes = await fs.readFile(file);
    assert.deepEqual(new Uint8Array(bytes.subarray(read.dataOffset, read.dataOffset + 12)), norm);
    assert.deepEqual(new Uint8Array(bytes.subarray(read.dataOffset + 32)), q8);
  });

  test('a tensor source that yields the wrong number of bytes fails and leaves no file behind', async () => {
    const file = path.join(dir, 'short.gguf');
    await assert.rejects(
      writeGgufFile({ path: file, metadata: [], tensors: [{ name: 't', dims: [4], type: GGML_TYPE.F32, data: () => [new Uint8Array(8)] }] }),
      /produced 8 bytes, expected 16/,
    );
    assert.deepEqual((await fs.readdir(dir)).filter((n) => n.startsWith('short')), []);
  });
});
