/**
 * node-llama-cpp's resource rehearsal (a second, weightless load of the model and a bufferless
 * context, to learn their memory) is skipped on a CPU-only engine (src/engine/worker/resource-simulation.ts):
 * the load goes through the Worker's own load code and leaves node-llama-cpp's simulator with no
 * model of its own, and generation is unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { disposeModel, loadModel, startEngine } from '../../src/engine/worker/load.js';
import { skipResourceSimulationOnCpu } from '../../src/engine/worker/resource-simulation.js';
import type { WorkerInit } from '../../src/engine/protocol.js';
import { tinyModel, type TinyModel } from './support.js';

const silent = () => {};

/** What node-llama-cpp's simulator holds for one model: the weightless copies it loaded. */
interface SimulatorInternals {
  _resolveSimulatorSource(): Promise<unknown>;
  _simulationSession: { _modelHandlePromises: { values(): Iterable<unknown> } };
}

describe("node-llama-cpp's resource rehearsal on a CPU-only engine", () => {
  let model: TinyModel;
  before(async () => {
    model = await tinyModel();
  });
  after(async () => {
    await model?.cleanup();
  });

  test('the pinned node-llama-cpp has the method the skip replaces', () => {
    assert.equal(skipResourceSimulationOnCpu(), true);
  });

  test('a model and its context load without a second, weightless load of the model, and still answer', async () => {
    skipResourceSimulationOnCpu();
    const engine = await startEngine({ gpu: false, threads: 1 }, silent);
    assert.equal(engine.llama.gpu, false);
    const init: WorkerInit = { modelPath: model.path, mode: 'completion', contextSize: 256, parallel: 2, threads: 1, gpu: false };
    const loaded = await loadModel(init, silent, new AbortController().signal, engine);
    try {
      const insights = loaded.model.fileInsights as unknown as SimulatorInternals;
      assert.equal(await insights._resolveSimulatorSource(), null, 'no source to rehearse from');
      assert.equal([...insights._simulationSession._modelHandlePromises.values()].length, 0, 'the simulator loaded no copy of the model for the context');
      const tokens = loaded.model.tokenize('Hello there');
      assert.ok(tokens.length > 0);
      const sequence = loaded.sequences[0]!;
      const iterator = sequence.evaluate(tokens)[Symbol.asyncIterator]();
      const first = await iterator.next();
      await iterator.return?.();
      assert.equal(first.done, false, 'the context evaluates and yields a token');
    } finally {
      await disposeModel(loaded);
    }
  });
});
