/**
 * The memory estimate the scheduler places models by, held against what llama.cpp itself reports
 * for the loaded model (weights, KV cache and compute buffers): never below it, so placement
 * errs on the safe side, and not far above it, so it does not refuse models that fit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { estimateModelBytes } from '../../src/engine/index.js';
import { generateModel } from '../../src/gguf/generate.js';
import { loadHandle, tinyModel, type TinyModel } from './support.js';

/** The most the estimate may exceed the reported use on a model whose weights dominate. */
const MAX_OVERESTIMATE = 1.5;

const specFor = (modelPath: string) => ({ id: 'sha256:estimate', name: 'estimate', modelPath, mode: 'completion' as const, settings: {} });
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

describe('the model memory estimate against llama.cpp', () => {
  let dir: string;
  let tiny: TinyModel;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'estimate-test-'));
    tiny = await tinyModel();
  });
  after(async () => {
    await tiny?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test(`for a SmolLM2-135M-shaped model with two 1024-token sequences it is at least what llama.cpp reports and at most ${MAX_OVERESTIMATE}x that`, async (t) => {
    // Its real shape (30 layers, a 49152-token vocabulary) with random weights: a 144 MB file whose KV cache and logits buffer are far from negligible.
    const file = path.join(dir, 'smollm2-135m.gguf');
    await generateModel({ path: file, preset: 'smollm2-135m', type: 'q8_0', seed: 1 });
    const handle = await loadHandle(file, { contextSize: 1024, parallel: 2 });
    try {
      const reported = handle.info!.memoryBytes;
      const estimate = await estimateModelBytes(specFor(file), 1024, 2);
      const detail = `estimate ${mib(estimate)}, llama.cpp ${mib(reported)}`;
      t.diagnostic(detail);
      assert.ok(estimate >= reported, detail);
      assert.ok(estimate <= reported * MAX_OVERESTIMATE, detail);
    } finally {
      await handle.dispose();
    }
  });

  test('for the tiny model, whose fixed overhead dominates, it is still not below what llama.cpp reports', async () => {
    const handle = await loadHandle(tiny.path, { contextSize: 2048, parallel: 1 });
    try {
      const estimate = await estimateModelBytes(specFor(tiny.path), 2048, 1);
      assert.ok(estimate >= handle.info!.memoryBytes, `estimate ${mib(estimate)}, llama.cpp ${mib(handle.info!.memoryBytes)}`);
    } finally {
      await handle.dispose();
    }
  });
});
