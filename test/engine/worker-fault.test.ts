import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { createWorkerHandleFactory, FAULT_MARKER, Scheduler, TEST_FAULTS_ENV } from '../../src/engine/index.js';
import { createSilentLogger } from '../../src/log.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

describe('a failing model Worker', () => {
  let model: TinyModel;
  before(async () => {
    // Workers copy the environment when they start.
    process.env[TEST_FAULTS_ENV] = '1';
    model = await tinyModel();
  });
  after(async () => {
    delete process.env[TEST_FAULTS_ENV];
    await model?.cleanup();
  });

  test('an injected fault fails its request and its handle, while another handle keeps working', async () => {
    const healthy = await loadHandle(model.path);
    const faulty = await loadHandle(model.path).catch(async (err: unknown) => {
      await healthy.dispose();
      throw err;
    });
    try {
      const failures: AppError[] = [];
      faulty.onFailure((e) => failures.push(e));
      await assert.rejects(
        collect(faulty, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 500, stop: [FAULT_MARKER] } }),
        (e: unknown) => e instanceof AppError && e.code === 'internal' && /failed/.test(e.message),
      );
      assert.equal(failures.length, 1);
      await assert.rejects(faulty.tokenize('x'), (e: unknown) => e instanceof AppError && e.code === 'unavailable');
      await faulty.dispose();
      const events = await collect(healthy, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 5 } });
      assert.equal(doneOf(events).usage.completionTokens, 5);
    } finally {
      await faulty.dispose();
      await healthy.dispose();
    }
  });

  test('through the scheduler, the next request after a fault loads a fresh Worker', async () => {
    const scheduler = new Scheduler({
      createHandle: createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger() }).createHandle,
      maxLoadedModels: 2, defaultKeepAlive: '5m', defaultParallel: 1, defaultContextSize: 512, maxQueue: 4, threadBudget: 1,
      logger: createSilentLogger(),
    });
    const spec = { id: 'sha256:tiny', name: 'tiny', modelPath: model.path, mode: 'completion' as const, settings: {} };
    try {
      const lease = await scheduler.acquire(spec);
      await assert.rejects(collect(lease.session as never, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 500, stop: [FAULT_MARKER] } }));
      lease.release();
      const again = await scheduler.acquire(spec);
      const text = textOf(await collect(again.session as never, { kind: 'completion', prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 3 } }));
      assert.ok(text.length > 0);
      assert.equal(scheduler.ps().length, 1);
      again.release();
      assert.equal(scheduler.status().version.startsWith('v'), true);
    } finally {
      await scheduler.close();
    }
  });
});
