import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateModel } from '../../../src/gguf/generate.js';
import { readGgufFile } from '../../../src/gguf/reader.js';
import { BYTE_TOKEN_BASE, THINKING_TEMPLATE, TOKEN_TYPE } from '../../../src/gguf/tokenizer.js';
import { sha256File } from '../../../src/util/digest.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-gen-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Rows of token_embd.weight in an f32 model, as floats. */
async function embeddingRows(file: string, rows: number[]): Promise<Float32Array[]> {
  const info = await readGgufFile(file);
  const embd = info.tensors.find((t) => t.name === 'token_embd.weight')!;
  const bytes = await fs.readFile(file);
  const width = embd.dims[0]!;
  return rows.map((row) => {
    const start = info.dataOffset + embd.offset + row * width * 4;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + width * 4));
  });
}

describe('generateModel', () => {
  test('the same arguments give byte-identical files and another seed gives different bytes', async () => {
    const a = await generateModel({ path: path.join(dir, 'a.gguf'), preset: 'tiny', type: 'q8_0', seed: 7 });
    const b = await generateModel({ path: path.join(dir, 'b.gguf'), preset: 'tiny', type: 'q8_0', seed: 7 });
    const c = await generateModel({ path: path.join(dir, 'c.gguf'), preset: 'tiny', type: 'q8_0', seed: 8 });
    const [da, db, dc] = await Promise.all([a, b, c].map((m) => sha256File(m.path)));
    assert.equal(da!.digest, db!.digest);
    assert.notEqual(da!.digest, dc!.digest);
    assert.equal(a.size, c.size);
    assert.equal(a.size, da!.size);
  });

  test('a reranker is a qwen3 model with pooling type rank, two labels and a classification head of two rows', async () => {
    const model = await generateModel({ path: path.join(dir, 'rerank.gguf'), preset: 'tiny', type: 'q8_0', seed: 7, reranker: true });
    const info = await readGgufFile(model.path);
    const meta = new Map([...info.metadata].map(([key, entry]) => [key, entry.value]));
    assert.equal(meta.get('general.architecture'), 'qwen3');
    assert.equal(meta.get('qwen3.pooling_type'), 4);
    assert.deepEqual((meta.get('qwen3.classifier.output_labels') as { items: unknown[] }).items, ['yes', 'no']);
    assert.equal(meta.get('llama.block_count'), undefined);
    const names = info.tensors.map((t) => t.name);
    assert.deepEqual(info.tensors.find((t) => t.name === 'cls.output.weight')?.dims, [64, 2]);
    assert.ok(names.includes('blk.1.attn_q_norm.weight') && names.includes('blk.1.attn_k_norm.weight'));
    const again = await generateModel({ path: path.join(dir, 'rerank-2.gguf'), preset: 'tiny', type: 'q8_0', seed: 7, reranker: true });
    assert.equal((await sha256File(again.path)).digest, (await sha256File(model.path)).digest);
  });

  test('a thinking model ends its vocabulary with user-defined <think> and </think>, draws the </think> row wider and keeps every other row', async () => {
    const plain = await generateModel({ path: path.join(dir, 'plain.gguf'), preset: 'tiny', type: 'f32', seed: 4 });
    const thinking = await generateModel({ path: path.join(dir, 'think.gguf'), preset: 'tiny', type: 'f32', seed: 4, thinking: true });
    const info = await readGgufFile(thinking.path);
    const meta = new Map([...info.metadata].map(([key, entry]) => [key, entry.value]));
    const tokens = (meta.get('tokenizer.ggml.tokens') as { items: string[] }).items;
    const types = (meta.get('tokenizer.ggml.token_type') as { items: number[] }).items;
    assert.deepEqual(tokens.slice(-2), ['<think>', '</think>']);
    assert.deepEqual(types.slice(-2), [TOKEN_TYPE.USER_DEFINED, TOKEN_TYPE.USER_DEFINED]);
    assert.equal(tokens.length, 320);
    assert.equal(meta.get('tokenizer.chat_template'), THINKING_TEMPLATE);
    const rows = [BYTE_TOKEN_BASE + 0x41, 318, 319];
    const [a, b] = await Promise.all([embeddingRows(plain.path, rows), embeddingRows(thinking.path, rows)]);
    assert.deepEqual(b[0], a[0], 'the other rows are drawn as without thinking');
    const rms = (row: Float32Array) => Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length);
    assert.ok(rms(b[2]!) > 3 * rms(b[1]!), `the </think> row is wider: ${rms(b[2]!)} vs ${rms(b[1]!)}`);
    assert.deepEqual(b[2]!.map((v) => v / 4), a[2], 'it is the same draw, scaled');
  });

  test('the tiny preset has the parameter count its shape implies, for every weight type', async () => {
    const [vocab, dim, layers, ffn, kvDim] = [320, 64, 2, 192, (64 / 4) * 2];
    const perLayer = 2 * dim * dim + 2 * dim * kvDim + 3 * dim * ffn + 2 * dim;
    const expected = vocab * dim + layers * perLayer + dim;
    assert.equal(expected, 119104);
    const sizes: number[] = [];
    for (const type of ['f32', 'f16', 'q8_0'] as const) {
      const model = await generateModel({ path: path.join(dir, `p-${type}.gguf`), preset: 'tiny', type });
      assert.equal(model.parameters, expected);
      sizes.push(model.size);
    }
    assert.ok(sizes[0]! > sizes[1]! && sizes[1]! > sizes[2]!, `sizes shrink with the type: ${sizes.join(', ')}`);
  });

  test('the embedding rows of bytes 0x80-0xFF are zero unless invalid UTF-8 is allowed', async () => {
    const rows = [BYTE_TOKEN_BASE + 0x41, BYTE_TOKEN_BASE + 0x80, BYTE_TOKEN_BASE + 0xff];
    const safe = await generateModel({ path: path.join(dir, 'safe.gguf'), preset: 'tiny', type: 'f32', seed: 3 });
    const [ascii, first, last] = await embeddingRows(safe.path, rows);
    assert.ok(ascii!.some((v) => v !== 0));
    assert.ok(first!.every((v) => v === 0) && last!.every((v) => v === 0));
    const raw = await generateModel({ path: path.join(dir, 'raw.gguf'), preset: 'tiny', type: 'f32', seed: 3, allowInvalidUtf8: true });
    const [ascii2, first2] = await embeddingRows(raw.path, rows);
    assert.deepEqual(ascii2, ascii, 'zeroing does not shift the random stream');
    assert.ok(first2!.some((v) => v !== 0));
  });

  test('embedding weights have the standard deviation 0.02 of the uniform distribution asked for', async () => {
    const model = await generateModel({ path: path.join(dir, 'std.gguf'), preset: 'tiny', type: 'f32', seed: 5, allowInvalidUtf8: true });
    const rows = await embeddingRows(model.path, Array.from({ length: 320 }, (_, i) => i));
    const values = rows.flatMap((r) => Array.from(r));
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    const bound = 0.02 * Math.sqrt(3);
    assert.ok(values.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
  });

  test('invalid options are refused with a message naming them', async () => {
    const file = path.join(dir, 'bad.gguf');
    await assert.rejects(generateModel({ path: file, preset: 'huge' as 'tiny', type: 'f32' }), /unknown model preset "huge"/);
    await assert.rejects(generateModel({ path: file, preset: 'tiny', type: 'q4' as 'f32' }), /unknown weight type "q4"/);
    await assert.rejects(generateModel({ path: file, preset: 'tiny', type: 'f32', seed: -1 }), /invalid seed -1/);
    await assert.rejects(generateModel({ path: file, preset: 'tiny', type: 'f32', contextLength: 0 }), /invalid context length 0/);
  });
});
