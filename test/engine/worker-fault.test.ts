/**
 * How a model Worker that goes wrong is contained: it throws, exits, lets an error escape, is
 * refused by llama.cpp, is called off while loading, or does not stop in time. Each time only its
 * own requests fail, with a code that says what happened, and a healthy Worker beside it (or the
 * next load) keeps serving. The test fault switch makes the Worker misbehave on cue.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import {
  createWorkerHandleFactory,
  ERROR_FAULT_MARKER,
  EXIT_FAULT_CODE,
  EXIT_FAULT_MARKER,
  FAULT_MARKER,
  HOLD_FAULT_PREFIX,
  heldMarker,
  Scheduler,
  TEST_FAULTS_ENV,
  WorkerModelHandle,
  type GenerateRequest,
} from '../../src/engine/index.js';
import { createSilentLogger } from '../../src/log.js';
import { waitUntil } from '../e2e/support/wait.js';
import { mutationNamed, writeMutatedModel } from '../support/hostile-models.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

/** A completion that runs long enough for a fault after its second token to strike. */
function faulting(marker: string): GenerateRequest {
  return { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 500, stop: [marker] } };
}

const isAppError = (code: string, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof AppError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return true;
};

describe('a failing model Worker', () => {
  let model: TinyModel;
  /** Loaded once: every fault below must leave it serving. */
  let healthy: WorkerModelHandle;

  async function assertHealthyServes(): Promise<void> {
    const events = await collect(healthy, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 3 } });
    assert.equal(doneOf(events).usage.completionTokens, 3);
  }

  /** Loads a second Worker on the tiny model, runs `body` on it, and disposes it whatever happens. */
  async function withFaulty(body: (faulty: WorkerModelHandle) => Promise<void>, options: Parameters<typeof loadHandle>[1] = {}): Promise<void> {
    const faulty = await loadHandle(model.path, options);
    try {
      await body(faulty);
    } finally {
      await faulty.dispose();
    }
  }

  before(async () => {
    // Workers copy the environment when they start.
    process.env[TEST_FAULTS_ENV] = '1';
    model = await tinyModel();
    healthy = await loadHandle(model.path);
  });
  after(async () => {
    delete process.env[TEST_FAULTS_ENV];
    await healthy?.dispose();
    await model?.cleanup();
  });

  test('an injected fault fails its request and its handle, while another handle keeps working', async () => {
    await withFaulty(async (faulty) => {
      const failures: AppError[] = [];
      faulty.onFailure((e) => failures.push(e));
      await assert.rejects(collect(faulty, faulting(FAULT_MARKER)), isAppError('internal', /worker of model tiny failed: injected test fault/));
      assert.equal(failures.length, 1);
      await assert.rejects(faulty.tokenize('x'), isAppError('unavailable', /not loaded/));
    });
    await assertHealthyServes();
  });

  test('a Worker that exits mid-generation fails that request with its exit code and reports the failure once', async () => {
    await withFaulty(async (faulty) => {
      const failures: AppError[] = [];
      faulty.onFailure((e) => failures.push(e));
      await assert.rejects(collect(faulty, faulting(EXIT_FAULT_MARKER)), isAppError('internal', new RegExp(`worker of model tiny exited unexpectedly \\(code ${EXIT_FAULT_CODE}\\)`)));
      assert.equal(failures.length, 1);
      await assert.rejects(faulty.tokenize('x'), isAppError('unavailable', /not loaded/));
    });
    await assertHealthyServes();
  });

  test("an error that escapes the engine reaches the Worker's 'error' event and fails only that Worker's request", async () => {
    await withFaulty(async (faulty) => {
      const failures: AppError[] = [];
      faulty.onFailure((e) => failures.push(e));
      await assert.rejects(collect(faulty, faulting(ERROR_FAULT_MARKER)), isAppError('internal', /worker of model tiny failed: injected test fault: an error the engine did not catch/));
      assert.equal(failures.length, 1);
    });
    await assertHealthyServes();
  });

  test("a model llama.cpp refuses fails its load with llama.cpp's reason and a code that blames the model", async () => {
    // Well-formed GGUF with every check in JavaScript passing: only llama.cpp knows a norm must be as wide as the embedding.
    const file = await writeMutatedModel(path.join(path.dirname(model.path), 'narrow-norm.gguf'), mutationNamed('a norm with the wrong length'));
    const refused = new WorkerModelHandle({
      spec: { id: 'sha256:narrow', name: 'narrow', modelPath: file, mode: 'completion', settings: {} },
      settings: { contextSize: 512, parallel: 1, threads: 1 },
      gpu: false,
      logger: createSilentLogger(),
    });
    try {
      await assert.rejects(refused.load(), isAppError('unsupported', /llama\.cpp cannot load model .*narrow-norm\.gguf: .*tensor 'blk\.0\.attn_norm\.weight' has wrong shape; expected 64, got 32/));
      await assert.rejects(refused.tokenize('x'), isAppError('unavailable', /not loaded/));
    } finally {
      await refused.dispose();
    }
    await assertHealthyServes();
  });

  test('a load called off by its signal, or by dispose, rejects as cancelled and the next load of the same file succeeds', async () => {
    for (const callOff of ['signal', 'dispose'] as const) {
      const handle = new WorkerModelHandle({
        spec: { id: 'sha256:tiny', name: 'tiny', modelPath: model.path, mode: 'completion', settings: {} },
        settings: { contextSize: 512, parallel: 1, threads: 1 },
        gpu: false,
        logger: createSilentLogger(),
      });
      const controller = new AbortController();
      try {
        const loading = handle.load(controller.signal);
        if (callOff === 'signal') controller.abort();
        else void handle.dispose();
        await assert.rejects(loading, isAppError('aborted', /the load of model tiny was cancelled/), callOff);
      } finally {
        await handle.dispose();
      }
    }
    await withFaulty(async (fresh) => {
      assert.ok((await fresh.tokenize('hello')).length > 0);
    });
  });

  test('a Worker that does not stop in time is left behind, its requests fail as unavailable instead of waiting forever, and a new Worker of the model loads meanwhile', async () => {
    const release = path.join(path.dirname(model.path), 'release-stuck');
    await withFaulty(
      async (stuck) => {
        const events = stuck.generate(faulting(`${HOLD_FAULT_PREFIX}${release}`))[Symbol.asyncIterator]();
        const generation = (async () => {
          while (!(await events.next()).done);
        })();
        generation.catch(() => undefined);
        try {
          // After its second token its thread is blocked until the release file exists.
          await waitUntil('the engine inside the hold', async () => existsSync(heldMarker(release)));
          await stuck.dispose();
          await assert.rejects(generation, isAppError('unavailable', /worker of model tiny did not stop within 300 ms; its requests were abandoned/));
          // The abandoned Worker holds nothing the model's next load needs: a new one loads and answers while it is still stuck.
          await withFaulty(async (fresh) => {
            assert.ok((await fresh.tokenize('hello')).length > 0);
          });
        } finally {
          // Let the abandoned thread run again so that it winds down on its own.
          await fs.writeFile(release, '');
        }
      },
      { stopTimeoutMs: 300 },
    );
    await assertHealthyServes();
  });

  test('through the scheduler, the next request after a fault loads a fresh Worker', async () => {
    const scheduler = new Scheduler({
      createHandle: createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger() }).createHandle,
      maxLoadedModels: 2, defaultKeepAlive: '5m', defaultParallel: 1, defaultContextSize: 512, maxQueue: 4, threadBudget: 1,
      logger: createSilentLogger(),
    });
    const spec = { id: 'sha256:tiny', name: 'tiny', modelPath: model.path, mode: 'completion' as const, settings: {} };
    try {
      for (const marker of [FAULT_MARKER, EXIT_FAULT_MARKER]) {
        const lease = await scheduler.acquire(spec);
        await assert.rejects(collect(lease.session as never, faulting(marker)), isAppError('internal', /worker of model tiny/));
        lease.release();
        const again = await scheduler.acquire(spec);
        assert.notEqual(again.session, lease.session, `${marker}: a new engine serves the next request`);
        const text = textOf(await collect(again.session as never, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 3 } }));
        assert.ok(text.length > 0);
        assert.equal(scheduler.ps().length, 1);
        again.release();
      }
    } finally {
      await scheduler.close();
    }
  });
});
