import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GgufValueType } from '../../../src/gguf/constants.js';
import { generateModel } from '../../../src/gguf/generate.js';
import { GGML_TYPE } from '../../../src/gguf/ggml-types.js';
import { gguf, kv } from '../../../src/gguf/metadata-values.js';
import { describeModel, fileTypeName } from '../../../src/gguf/model-info.js';
import { readGgufFile } from '../../../src/gguf/reader.js';
import { writeGgufFile } from '../../../src/gguf/writer.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-info-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('describeModel', () => {
  test('a generated tiny model is described with its architecture, shape, parameters and quantization', async () => {
    const expected = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0' } as const;
    for (const type of ['f32', 'f16', 'q8_0'] as const) {
      const model = await generateModel({ path: path.join(dir, `${type}.gguf`), preset: 'tiny', type, name: 'tiny test' });
      const info = describeModel(await readGgufFile(model.path));
      assert.equal(info.architecture, 'llama');
      assert.equal(info.parameters, 119104);
      assert.equal(info.quantization, expected[type]);
      assert.equal(info.contextLength, 512);
      assert.equal(info.name, 'tiny test');
      assert.equal(info.splitCount, 1);
      assert.deepEqual(
        [info.embeddingLength, info.blockCount, info.headCount, info.headCountKv, info.vocabSize],
        [64, 2, 4, 2, 320],
      );
    }
  });

  test('the context length written by the generator is the one reported', async () => {
    const model = await generateModel({ path: path.join(dir, 'ctx.gguf'), preset: 'tiny', type: 'q8_0', contextLength: 300 });
    assert.equal(describeModel(await readGgufFile(model.path)).contextLength, 300);
  });

  test('the kv map holds every entry as a string, dropping arrays of more than 50 items', async () => {
    const model = await generateModel({ path: path.join(dir, 'kv.gguf'), preset: 'tiny', type: 'q8_0' });
    const { kv: strings } = describeModel(await readGgufFile(model.path));
    assert.equal(strings['general.architecture'], 'llama');
    assert.equal(strings['general.file_type'], '7');
    assert.equal(strings['llama.attention.layer_norm_rms_epsilon'], '0.000010');
    assert.equal(strings['llama.rope.freq_base'], '10000.000000');
    assert.equal(strings['tokenizer.ggml.add_bos_token'], 'false');
    assert.match(strings['tokenizer.ggml.merges']!, /^Ġ t, Ġ a, h e, /);
    assert.equal(strings['tokenizer.ggml.tokens'], undefined);
    assert.equal(strings['tokenizer.ggml.token_type'], undefined);
  });

  test('without a known general.file_type the most common tensor type names the quantization', async () => {
    const file = path.join(dir, 'no-ftype.gguf');
    const block = new Uint8Array(34);
    await writeGgufFile({
      path: file,
      metadata: [
        kv('general.architecture', gguf.str('llama')),
        kv('split.count', { type: GgufValueType.UINT16, value: 3 }),
        kv('llama.attention.head_count', gguf.array(GgufValueType.INT32, [4, 8, 2])),
      ],
      tensors: [
        { name: 'a', dims: [32], type: GGML_TYPE.Q8_0, data: () => [block] },
        { name: 'b', dims: [32], type: GGML_TYPE.Q8_0, data: () => [block] },
        { name: 'c', dims: [2], type: GGML_TYPE.F32, data: () => [new Uint8Array(8)] },
      ],
    });
    const info = describeModel(await readGgufFile(file));
    assert.equal(info.quantization, 'Q8_0');
    assert.equal(info.parameters, 66);
    assert.equal(info.splitCount, 3);
    assert.equal(info.headCount, 8);
    assert.equal(info.kv['llama.attention.head_count'], '4, 8, 2');
    assert.equal(info.contextLength, undefined);
  });

  test('file type numbers map to llama.cpp names', () => {
    assert.deepEqual(
      [0, 1, 2, 7, 15, 18, 30, 32, 38].map(fileTypeName),
      ['F32', 'F16', 'Q4_0', 'Q8_0', 'Q4_K_M', 'Q6_K', 'IQ4_XS', 'BF16', 'MXFP4_MOE'],
    );
    assert.equal(fileTypeName(4), undefined);
  });
});
