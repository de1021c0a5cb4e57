import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { generateModel } from '../../../src/gguf/generate.js';
import { gguf, type GgufWritableValue } from '../../../src/gguf/metadata-values.js';
import { planModel } from '../../../src/gguf/model-plan.js';
import { validateModelFile } from '../../../src/gguf/validate.js';
import { writeGgufFile } from '../../../src/gguf/writer.js';

let dir: string;
let tiny: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-validate-'));
  tiny = (await generateModel({ path: path.join(dir, 'tiny.gguf'), preset: 'tiny', type: 'f16', seed: 1 })).path;
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A tiny model whose metadata entry `key` holds `value` instead. */
async function withMetadata(name: string, key: string, value: GgufWritableValue): Promise<string> {
  const plan = planModel({ preset: 'tiny', type: 'f16', seed: 1 });
  const entry = plan.metadata.find((e) => e.key === key);
  assert.ok(entry, `the plan has ${key}`);
  entry.value = value;
  return (await writeGgufFile({ path: path.join(dir, name), metadata: plan.metadata, tensors: plan.tensors })).path;
}

/** A copy of the tiny model with `patch` applied to its bytes. */
async function patched(name: string, patch: (bytes: Buffer) => Buffer): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, patch(await fs.readFile(tiny)));
  return file;
}

async function assertRejected(file: string, code: AppError['code'], message: RegExp): Promise<void> {
  await assert.rejects(validateModelFile(file), (err: unknown) => {
    assert.ok(err instanceof AppError, `an AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.match(err.message, new RegExp(`GGUF file ${path.basename(file)}`));
    return true;
  });
}

describe('validateModelFile', () => {
  test('every generated tiny model is accepted', async () => {
    for (const type of ['f32', 'f16', 'q8_0'] as const) {
      const model = await generateModel({ path: path.join(dir, `ok-${type}.gguf`), preset: 'tiny', type });
      const file = await validateModelFile(model.path);
      assert.equal(file.tensors.length, 20);
    }
  });

  test('zero hyper-parameters that make llama.cpp assert are rejected, naming the key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['llama.attention.head_count', /llama\.attention\.head_count is 0; it must be greater than 0/],
      ['llama.attention.head_count_kv', /llama\.attention\.head_count_kv is 0; it must be greater than 0/],
      ['llama.block_count', /llama\.block_count is 0; it must be from 1 to 512/],
      ['llama.feed_forward_length', /llama\.feed_forward_length is 0; it must be greater than 0/],
      ['llama.embedding_length', /llama\.embedding_length is 0; it must be greater than 0/],
    ];
    for (const [key, message] of cases) {
      await assertRejected(await withMetadata(`zero-${key}.gguf`, key, gguf.u32(0)), 'bad_request', message);
    }
  });

  test('a head_count_kv that does not divide head_count is rejected', async () => {
    const file = await withMetadata('kv3.gguf', 'llama.attention.head_count_kv', gguf.u32(3));
    await assertRejected(file, 'bad_request', /head_count_kv 3 does not divide llama\.attention\.head_count 4/);
  });

  test('an embedding length that the head count does not divide is rejected', async () => {
    const file = await withMetadata('heads3.gguf', 'llama.attention.head_count', gguf.u32(3));
    await assertRejected(file, 'bad_request', /embedding_length 64 is not divisible by llama\.attention\.head_count 3/);
  });

  test('a file truncated in its tensor data is rejected as truncated', async () => {
    const file = await patched('half.gguf', (b) => b.subarray(0, Math.floor(b.length / 2)));
    await assertRejected(file, 'bad_request', /past the end of the file .*truncated/);
  });

  test('a file truncated inside its header is rejected', async () => {
    const file = await patched('header.gguf', (b) => b.subarray(0, 5000));
    await assertRejected(file, 'bad_request', /tokenizer\.ggml\.token_type" length 320 at byte \d+ cannot fit in the rest of the file/);
    const tiny = await patched('header-short.gguf', (b) => b.subarray(0, 1000));
    await assertRejected(tiny, 'bad_request', /26 metadata entries and 20 tensors cannot fit in a 1000-byte file/);
    const inCounts = await patched('header-counts.gguf', (b) => b.subarray(0, 20));
    await assertRejected(inCounts, 'bad_request', /metadata count at byte 16 runs past the end of the file \(20 bytes\)/);
  });

  test('a file without the GGUF magic is rejected', async () => {
    const file = await patched('magic.gguf', (b) => Buffer.concat([Buffer.from('GGML'), b.subarray(4)]));
    await assertRejected(file, 'bad_request', /wrong magic 0x4c4d4747/);
  });

  test('an empty file is rejected', async () => {
    await assertRejected(await patched('empty.gguf', () => Buffer.alloc(0)), 'bad_request', /the file is empty/);
  });

  test('a huge string length is rejected before anything is allocated', async () => {
    // The first key's length field follows magic, version and the two counts.
    const file = await patched('string.gguf', (b) => {
      const copy = Buffer.from(b);
      copy.writeBigUInt64LE(2n ** 40n, 24);
      return copy;
    });
    await assertRejected(file, 'bad_request', /key 0 length 1099511627776 is too large/);
  });

  test('a huge tensor count is rejected', async () => {
    const file = await patched('count.gguf', (b) => {
      const copy = Buffer.from(b);
      copy.writeBigUInt64LE(2n ** 50n, 8);
      return copy;
    });
    await assertRejected(file, 'bad_request', /tensor count 1125899906842624 is too large/);
  });

  test('a tensor offset past the end of the file is rejected', async () => {
    const file = await patched('offset.gguf', (b) => {
      const copy = Buffer.from(b);
      // output_norm.weight is the last tensor: name, n_dims (4), one dim (8), type (4), then its offset.
      const name = Buffer.from('output_norm.weight');
      const at = copy.lastIndexOf(name) + name.length + 4 + 8 + 4;
      copy.writeBigUInt64LE(BigInt(1 << 30), at);
      return copy;
    });
    await assertRejected(file, 'bad_request', /tensor "output_norm\.weight" data ends at byte \d+, past the end of the file/);
  });

  test('a duplicate tensor name is rejected', async () => {
    const plan = planModel({ preset: 'tiny', type: 'f16', seed: 1 });
    plan.tensors[2] = { ...plan.tensors[2]!, name: plan.tensors[1]!.name };
    const file = path.join(dir, 'duplicate.gguf');
    await writeGgufFile({ path: file, metadata: plan.metadata, tensors: plan.tensors });
    await assertRejected(file, 'bad_request', /duplicate tensor name "blk\.0\.attn_norm\.weight"/);
  });

  test('an unknown tensor type is reported as unsupported', async () => {
    const file = await patched('type.gguf', (b) => {
      const copy = Buffer.from(b);
      const name = Buffer.from('output_norm.weight');
      copy.writeUInt32LE(99, copy.lastIndexOf(name) + name.length + 4 + 8);
      return copy;
    });
    await assertRejected(file, 'unsupported', /tensor "output_norm\.weight" has unknown ggml type 99/);
  });
});
