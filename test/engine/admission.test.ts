import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { HANG_MODEL_NAME, runAdmissionCheck, stopAdmissionChildren, TEST_FAULTS_ENV } from '../../src/engine/index.js';
import { AdmissionChildren } from '../../src/engine/admission-child-process.js';
import { gguf, GgufValueType } from '../../src/gguf/index.js';
import { mutationNamed, setMetadata, writeMutatedModel } from '../support/hostile-models.js';
import { REPO_ROOT } from '../support/server-harness.js';
import { isProcessAlive } from '../support/processes.js';
import { waitUntil } from '../e2e/support/wait.js';

const execFileAsync = promisify(execFile);

describe('the admission check', () => {
  let dir: string;
  let healthy: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'admission-'));
    healthy = await writeMutatedModel(path.join(dir, 'healthy.gguf'), () => {});
  });
  after(async () => {
    stopAdmissionChildren();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (modelPath: string, extra: Partial<Parameters<typeof runAdmissionCheck>[0]> = {}) =>
    runAdmissionCheck({ modelPath, mode: 'completion', gpu: false, ...extra });

  test("admits a healthy model, naming the chat wrapper it resolved and that wrapper's type for the model's first load", async () => {
    const verdict = await check(healthy);
    assert.equal(verdict.admitted, true);
    assert.equal(verdict.admitted && verdict.chatWrapper, 'ChatML');
    assert.equal(verdict.admitted && verdict.chatWrapperType, 'chatML');
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

  test("refuses a model llama.cpp declines to load, with llama.cpp's own reason", async () => {
    // A norm half as wide as the embedding: well-formed GGUF that only llama.cpp's shape check catches.
    const file = await writeMutatedModel(path.join(dir, 'narrow-norm.gguf'), mutationNamed('a norm with the wrong length'));
    const verdict = await check(file);
    assert.equal(verdict.admitted, false);
    assert.match(!verdict.admitted ? verdict.reason : '', /llama\.cpp cannot load model narrow-norm\.gguf: check_tensor_dims: tensor 'blk\.0\.attn_norm\.weight' has wrong shape; expected 64, got 32/);
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
    // The warm spare was started with the environment of before.
    stopAdmissionChildren();
    try {
      const file = await writeMutatedModel(path.join(dir, 'hang.gguf'), (p) => setMetadata(p, 'general.name', gguf.str(HANG_MODEL_NAME)));
      // The model's time starts once the child's engine is up, and this model never finishes.
      const verdict = await check(file, { timeoutMs: 1_000 });
      assert.equal(verdict.admitted, false);
      assert.match(!verdict.admitted ? verdict.reason : '', /did not finish within 1 s/);
    } finally {
      delete process.env[TEST_FAULTS_ENV];
      stopAdmissionChildren();
    }
  });

  test('a cancelled check rejects as aborted instead of giving a verdict', async () => {
    const controller = new AbortController();
    const pending = check(healthy, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof AppError && err.code === 'aborted');
  });
});

describe('the admission check children', () => {
  const engine = { threads: 1, gpu: false as const };

  test('the next check gets a child whose engine is already up, and each child checks one model', async () => {
    const children = new AdmissionChildren();
    try {
      const first = children.take(engine);
      assert.equal(first.engineUp, false, 'the first child of a process starts cold');
      await children.warm(engine);
      const second = children.take(engine);
      assert.equal(second.engineUp, true);
      assert.notEqual(second.pid, first.pid);
      first.kill('idle');
      second.kill('idle');
      await Promise.all([first.ended, second.ended]);
    } finally {
      children.close();
    }
  });

  test('a spare started for other engine settings is not used', async () => {
    const children = new AdmissionChildren();
    try {
      await children.warm(engine);
      const other = children.take({ threads: 2, gpu: false });
      assert.equal(other.engineUp, false);
      other.kill('idle');
    } finally {
      children.close();
    }
  });

  test('a warm spare neither keeps its parent running nor outlives it', async () => {
    const script = [
      "import { AdmissionChildren } from './src/engine/admission-child-process.ts';",
      'const children = new AdmissionChildren();',
      'await children.warm({ threads: 1, gpu: false });',
      "children.take({ threads: 1, gpu: false }).kill('idle');",
      'await children.warm({ threads: 1, gpu: false });',
      "const pid = children['spares'][0].child.pid;",
      // Had a spare held the loop open, its idle timer would have stopped it before the end.
      "process.on('exit', () => process.stdout.write(`${pid} ${children['spares'].length > 0 ? 'ended with its spare waiting' : 'waited for its spare'}`));",
    ].join('\n');
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, timeout: 120_000 });
    const [pid, how] = [Number(stdout.split(' ')[0]), stdout.slice(stdout.indexOf(' ') + 1)];
    assert.ok(pid > 0, stdout);
    assert.equal(how, 'ended with its spare waiting');
    // The parent ended on its own with its spare idle; the spare saw its channel close and ends too.
    // Not our child: nothing reports its end but the process table.
    await waitUntil('the spare to end with its parent', async () => !isProcessAlive(pid), 30_000);
  });
});

