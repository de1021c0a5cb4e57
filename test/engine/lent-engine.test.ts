/**
 * Who releases an engine when a load fails (src/engine/worker/load.ts). A spare Worker lends its
 * engine to its own rehearsal; a real model named meanwhile calls the rehearsal off, which fails
 * its load, and then loads with that same engine. So a failed load releases the engine only when
 * it owns it, never when it was lent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { disposeModel, loadModel, startEngine, type StartedEngine } from '../../src/engine/worker/load.js';
import type { WorkerInit } from '../../src/engine/protocol.js';
import { tinyModel, type TinyModel } from './support.js';

const silent = () => {};

describe('an engine lent to a load', () => {
  let model: TinyModel;
  let init: WorkerInit;
  before(async () => {
    model = await tinyModel();
    init = { modelPath: model.path, mode: 'completion', contextSize: 256, parallel: 1, threads: 1, gpu: false };
  });
  after(async () => {
    await model?.cleanup();
  });

  test('a load called off while it runs leaves a lent engine up, and the next model loads with it', async () => {
    const engine: StartedEngine = await startEngine({ gpu: false, threads: 1 }, silent);
    try {
      await assert.rejects(loadModel(init, silent, AbortSignal.abort(), engine, { keepEngine: true }));
      assert.equal(engine.llama.disposed, false, 'the lender still has its engine');
      const loaded = await loadModel(init, silent, new AbortController().signal, engine);
      assert.ok(loaded.vocabularySize > 0);
      await disposeModel(loaded);
      assert.equal(engine.llama.disposed, true, 'the model that loaded with it owns it now');
    } finally {
      await engine.llama.dispose();
    }
  });

  test('a load that fails releases an engine it owns', async () => {
    const engine: StartedEngine = await startEngine({ gpu: false, threads: 1 }, silent);
    try {
      await assert.rejects(loadModel(init, silent, AbortSignal.abort(), engine));
      assert.equal(engine.llama.disposed, true);
    } finally {
      await engine.llama.dispose();
    }
  });
});
