/**
 * Isolation 'process': each model's engine in a child process of its own, behind the same
 * protocol as a Worker. Real children on the tiny model; faults come from the test switch
 * (MODEL_RUNNER_TEST_FAULTS) or from signals sent to the child's pid.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { ABORT_FAULT_MARKER, createWorkerHandleFactory, HANG_FAULT_MARKER, heldMarker, HOLD_FAULT_PREFIX, Scheduler, TEST_FAULTS_ENV } from '../../src/engine/index.js';
import { waitUntil } from '../e2e/support/wait.js';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { GenerateRequest } from '../../src/engine/types.js';
import { createSilentLogger } from '../../src/log.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';
import { isProcessAlive } from '../support/processes.js';

const greedy = (maxTokens: number, stop: string[] = []): GenerateRequest => ({
  kind: 'completion',
  prompt: 'abc',
  sampling: { temperature: 0, ignoreEos: true, maxTokens, stop },
});

const internalError = (pattern: RegExp) => (e: unknown) => e instanceof AppError && e.code === 'internal' && pattern.test(e.message);

/** Starts a long generation and resolves with its outcome once the first event has arrived. */
async function startLong(handle: WorkerModelHandle, stop: string[] = []): Promise<{ outcome: Promise<unknown> }> {
  const iterator = handle.generate(greedy(500, stop))[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);
  const outcome = (async () => {
    for (let r = await iterator.next(); !r.done; r = await iterator.next());
  })();
  // Tests await it after acting; until then its failure must not count as unhandled.
  outcome.catch(() => undefined);
  return { outcome };
}

describe('model engines in child processes (isolation process)', () => {
  let model: TinyModel;
  before(async () => {
    // Children copy the environment when they are forked.
    process.env[TEST_FAULTS_ENV] = '1';
    model = await tinyModel();
  });
  after(async () => {
    delete process.env[TEST_FAULTS_ENV];
    await model?.cleanup();
  });

  test('a child process generates, embeds and tokenizes exactly as a Worker does, and dispose ends it', async () => {
    const thread = await loadHandle(model.path);
    const child = await loadHandle(model.path, { isolation: 'process' });
    const threadEmbedder = await loadHandle(model.path, { mode: 'embedding', contextSize: 512 });
    const childEmbedder = await loadHandle(model.path, { mode: 'embedding', contextSize: 512, isolation: 'process' });
    try {
      assert.equal(thread.info!.isolation, 'thread');
      assert.equal(thread.pid, undefined);
      assert.equal(child.info!.isolation, 'process');
      assert.ok(typeof child.pid === 'number' && child.pid !== process.pid);
      const chat: GenerateRequest = { kind: 'chat', messages: [{ role: 'user', content: 'Hello' }], sampling: { maxTokens: 12, temperature: 0, ignoreEos: true } };
      const [threadEvents, childEvents] = [await collect(thread, chat), await collect(child, chat)];
      assert.equal(textOf(childEvents), textOf(threadEvents));
      assert.deepEqual(doneOf(childEvents).usage, doneOf(threadEvents).usage);
      assert.deepEqual(await child.tokenize('hello world'), await thread.tokenize('hello world'));
      const inputs = { inputs: ['hello world', 'another text'] };
      assert.deepEqual(await childEmbedder.embed(inputs), await threadEmbedder.embed(inputs));
    } finally {
      await Promise.all([thread.dispose(), child.dispose(), threadEmbedder.dispose(), childEmbedder.dispose()]);
    }
    assert.equal(isProcessAlive(child.pid!), false);
    assert.equal(isProcessAlive(childEmbedder.pid!), false);
  });

  test("a child starts without the server's registry and API secrets in its environment", { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const secrets = { DOCKER_PASSWORD: 'hub-secret', MODEL_RUNNER_API_KEY: 'api-secret', DOCKER_USERNAME: 'someone' };
    Object.assign(process.env, secrets);
    let child: WorkerModelHandle | undefined;
    try {
      child = await loadHandle(model.path, { isolation: 'process' });
      const environ = (await fs.readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0');
      assert.ok(environ.includes(`${TEST_FAULTS_ENV}=1`), 'the rest of the environment is passed on');
      for (const [name, value] of Object.entries(secrets)) assert.equal(environ.some((e) => e.startsWith(`${name}=`) || e.includes(value)), false, name);
    } finally {
      for (const name of Object.keys(secrets)) delete process.env[name];
      await child?.dispose();
    }
  });

  test('a child killed with SIGKILL fails only its own request, naming the model and the signal, while another model keeps answering', async () => {
    const healthy = await loadHandle(model.path, { isolation: 'process' });
    const victim = await loadHandle(model.path, { isolation: 'process' });
    const failures: AppError[] = [];
    victim.onFailure((e) => failures.push(e));
    try {
      const { outcome } = await startLong(victim);
      process.kill(victim.pid!, 'SIGKILL');
      await assert.rejects(outcome, internalError(/^the engine process of model tiny was killed by SIGKILL$/));
      assert.equal(failures.length, 1);
      await assert.rejects(victim.tokenize('x'), (e: unknown) => e instanceof AppError && e.code === 'unavailable');
      assert.equal(doneOf(await collect(healthy, greedy(5))).usage.completionTokens, 5);
    } finally {
      await Promise.all([healthy.dispose(), victim.dispose()]);
    }
  });

  test('a child that aborts, as a failed llama.cpp assertion does, fails its request, and the next request loads a fresh child', async () => {
    const scheduler = new Scheduler({
      createHandle: createWorkerHandleFactory({ gpu: 'cpu', isolation: 'process', logger: createSilentLogger() }).createHandle,
      maxLoadedModels: 2, defaultKeepAlive: '5m', defaultParallel: 1, defaultContextSize: 512, maxQueue: 4, threadBudget: 1,
      logger: createSilentLogger(),
    });
    const spec = { id: 'sha256:tiny', name: 'tiny', modelPath: model.path, mode: 'completion' as const, settings: {} };
    try {
      const lease = await scheduler.acquire(spec);
      await assert.rejects(collect(lease.session as never, greedy(500, [ABORT_FAULT_MARKER])), internalError(/^the engine process of model tiny was killed by SIGABRT$/));
      lease.release();
      const again = await scheduler.acquire(spec);
      assert.ok(textOf(await collect(again.session as never, greedy(3))).length > 0);
      assert.equal(scheduler.ps().length, 1);
      again.release();
    } finally {
      await scheduler.close();
    }
  });

  test('a child whose event loop hangs is found by the watchdog, killed, and its request fails', async () => {
    const hung = await loadHandle(model.path, { isolation: 'process', hangTimeoutMs: 5_000 });
    const failures: AppError[] = [];
    hung.onFailure((e) => failures.push(e));
    try {
      const { outcome } = await startLong(hung, [HANG_FAULT_MARKER]);
      await assert.rejects(outcome, internalError(/^the engine process of model tiny stopped answering for 5 s \(its event loop is blocked\) and was killed$/));
      assert.equal(failures.length, 1);
    } finally {
      await hung.dispose();
    }
    assert.equal(isProcessAlive(hung.pid!), false);
  });

  test('dispose kills a child that does not stop within the stop timeout', async () => {
    const hung = await loadHandle(model.path, { isolation: 'process', stopTimeoutMs: 500 });
    const release = path.join(path.dirname(model.path), 'release-never');
    const { outcome } = await startLong(hung, [`${HOLD_FAULT_PREFIX}${release}`]);
    // Once held, the child's thread is blocked for good (the release never comes): it cannot stop on its own.
    await waitUntil('the engine inside the hold', async () => existsSync(heldMarker(release)));
    await hung.dispose();
    await assert.rejects(outcome, (e: unknown) => e instanceof AppError && e.code === 'unavailable' && /^the engine process of model tiny did not stop within 500 ms and was killed$/.test(e.message));
    assert.equal(isProcessAlive(hung.pid!), false);
  });
});
