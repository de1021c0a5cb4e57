import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { HANG_MODEL_NAME, runAdmissionCheck, TEST_FAULTS_ENV } from '../../src/engine/index.js';
import { gguf, GgufValueType } from '../../src/gguf/index.js';
import { setMetadata, writeMutatedModel } from '../support/hostile-models.js';

describe('the admission check', () => {
  let dir: string;
  let healthy: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'admission-'));
    healthy = await writeMutatedModel(path.join(dir, 'healthy.gguf'), () => {});
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const check = (modelPath: string, extra: Partial<Parameters<typeof runAdmissionCheck>[0]> = {}) =>
    runAdmissionCheck({ modelPath, mode: 'completion', gpu: false, ...extra });

  test('admits a healthy model, naming the chat wrapper it resolved', async () => {
    const verdict = await check(healthy);
    assert.equal(verdict.admitted, true);
    assert.equal(verdict.admitted && verdict.chatWrapper, 'ChatML');
  });

  test('admits a healthy model for embeddings', async () => {
    assert.equal((await check(healthy, { mode: 'embedding' })).admitted, true);
  });

  test('refuses a model that aborts llama.cpp, naming the failed assertion, and the caller lives on', async () => {
    // Duplicate tokens pass every JavaScript check (they would mean reading the whole vocabulary).
    const file = await writeMutatedModel(path.join(dir, 'identical-tokens.gguf'), (p) => setMetadata(p, 'tokenizer.ggml.tokens', gguf.array(GgufValueType.STRING, new Array<string>(320).fill('a'))));
    const verdict = await check(file);
    assert.equal(verdict.admitted, false);
    assert.match(!verdict.admitted ? verdict.reason : '', /killed by SIGABRT.*GGML_ASSERT\(id_to_token\.size\(\) == token_to_id\.size\(\)\)/);
    assert.doesNotMatch(!verdict.admitted ? verdict.reason : '', /\/[\w.-]+\//, 'no file-system paths in the reason');
  });

  test('refuses a model the JavaScript checks reject before llama.cpp opens it', async () => {
    const file = await writeMutatedModel(path.join(dir, 'llama-tokenizer.gguf'), (p) => setMetadata(p, 'tokenizer.ggml.model', gguf.str('llama')));
    const verdict = await check(file);
    assert.equal(verdict.admitted, false);
    assert.match(!verdict.admitted ? verdict.reason : '', /invalid GGUF file llama-tokenizer\.gguf: tokenizer\.ggml\.model is "llama" but tokenizer\.ggml\.scores is missing/);
  });

  test('refuses a model whose chat template loops, naming the budget it overran', async () => {
    const loop = '{% for i in range(1000000000) %}x{% endfor %}';
    const file = await writeMutatedModel(path.join(dir, 'loop.gguf'), (p) => setMetadata(p, 'tokenizer.chat_template', gguf.str(loop)));
    const verdict = await check(file);
    assert.equal(verdict.admitted, false);
    assert.match(!verdict.admitted ? verdict.reason : '', /chat template cannot be used: the chat template ran more than \d+ steps/);
  });

  test('refuses a model that hangs the check once its time is up', async () => {
    process.env[TEST_FAULTS_ENV] = '1';
    try {
      const file = await writeMutatedModel(path.join(dir, 'hang.gguf'), (p) => setMetadata(p, 'general.name', gguf.str(HANG_MODEL_NAME)));
      // The model's time starts once the child's engine is up, and this model never finishes.
      const verdict = await check(file, { timeoutMs: 1_000 });
      assert.equal(verdict.admitted, false);
      assert.match(!verdict.admitted ? verdict.reason : '', /did not finish within 1 s/);
    } finally {
      delete process.env[TEST_FAULTS_ENV];
    }
  });

  test('a cancelled check rejects as aborted instead of giving a verdict', async () => {
    const controller = new AbortController();
    const pending = check(healthy, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof AppError && err.code === 'aborted');
  });
});
