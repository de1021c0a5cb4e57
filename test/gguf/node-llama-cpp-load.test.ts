import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { generateModel } from '../../src/gguf/generate.js';
import { validateModelFile } from '../../src/gguf/validate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Loads the model in a child process and prints the greedy tokens of two identical runs. */
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'greedy-twice.mjs');

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-llama-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('generated models in node-llama-cpp', () => {
  test('a generated tiny q8_0 model loads and generates the same tokens twice with greedy sampling', async () => {
    const model = await generateModel({ path: path.join(dir, 'tiny.gguf'), preset: 'tiny', type: 'q8_0', seed: 1 });
    await validateModelFile(model.path);
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, model.path, '16'], {
      cwd: repoRoot,
      timeout: 60_000,
      maxBuffer: 1 << 20,
    });
    const result = JSON.parse(stdout) as { runs: number[][]; prompt: number[]; trainContextSize: number; bos: number };
    assert.equal(result.trainContextSize, 512);
    assert.equal(result.bos, 1);
    assert.equal(result.prompt[0], 1, '<|im_start|> is tokenized as the control token 1');
    const [first, second] = result.runs;
    assert.ok(first!.length > 0, 'the model generated tokens');
    assert.deepEqual(second, first);
    assert.ok(first!.every((t) => Number.isInteger(t) && t >= 0 && t < 320));
  });
});
