/**
 * The spare engine Worker: started ahead of need with node-llama-cpp and its binding loaded, taken
 * by the next model load, replaced, and stopped with the server. Real Workers on the tiny model.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createWorkerHandleFactory } from '../../src/engine/index.js';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { LoadedHandleInfo } from '../../src/engine/model-handle-options.js';
import { createSilentLogger } from '../../src/log.js';
import { recordingLogger } from '../support/recording-logger.js';
import { collect, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

const greedy = { kind: 'completion' as const, prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, maxTokens: 6 } };

describe('the spare engine Worker', () => {
  let model: TinyModel;
  before(async () => {
    model = await tinyModel();
  });
  after(() => model?.cleanup());

  const spec = (path: string) => ({ id: 'sha256:tiny', name: 'tiny', modelPath: path, mode: 'completion' as const, settings: {} });
  /** A handle for the model at `file` from `engines`, one sequence and one thread. */
  const handleFor = (engines: ReturnType<typeof createWorkerHandleFactory>, file: string) =>
    engines.createHandle(spec(file), { contextSize: 512, parallel: 1, threads: 1 }) as WorkerModelHandle;

  test('each load takes a Worker whose engine was up before the model was named, and generates as a fresh Worker does', async () => {
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger(), spare: { threads: 2 } });
    const handles: WorkerModelHandle[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        // The spare after a load starts when that model is first idle: here, in the check that follows its ready.
        await new Promise((resolve) => setImmediate(resolve));
        await engines.spareReady();
        const handle = handleFor(engines, model.path);
        handles.push(handle);
        const info = (await handle.load()) as LoadedHandleInfo;
        assert.equal(info.engineStartedAhead, true, `load ${i + 1} found the spare up`);
        assert.equal(info.threads, 1, "the model's own thread share, not the spare's");
      }
      const fresh = await loadHandle(model.path, { contextSize: 512 });
      handles.push(fresh);
      assert.equal(fresh.info?.engineStartedAhead, false, 'a Worker made on demand starts its engine with the model');
      assert.equal(textOf(await collect(handles[0]!, greedy)), textOf(await collect(fresh, greedy)));
    } finally {
      await Promise.all(handles.map((h) => h.dispose()));
      await engines.close();
    }
  });

  test('the next spare starts only once the request that waited on a load is answered, so it takes no CPU from that answer', async () => {
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger(), spare: { threads: 2 } });
    const handle = handleFor(engines, model.path);
    try {
      await engines.spareReady();
      assert.equal(engines.spareState(), 'up');
      // As the server does: the request that waited on the load is sent as soon as it resolves.
      await handle.load();
      const statesDuringAnswer: string[] = [];
      let last: string | undefined;
      for await (const event of handle.generate({ ...greedy, sampling: { ...greedy.sampling, maxTokens: 24 } })) {
        last = event.type;
        if (event.type !== 'done') statesDuringAnswer.push(engines.spareState());
      }
      assert.equal(last, 'done');
      assert.ok(statesDuringAnswer.length > 0);
      assert.deepEqual([...new Set(statesDuringAnswer)], ['none'], 'no spare was starting while the first answer was computed');
      assert.notEqual(engines.spareState(), 'none', 'a new spare started once the answer was done');
      await engines.spareReady();
      assert.equal(engines.spareState(), 'up');
    } finally {
      await handle.dispose();
      await engines.close();
    }
  });

  test('a spare rehearses a load and a chat on a tiny model of its own before it is up; a Worker made for a named model does not', async () => {
    const { logger, lines } = recordingLogger('debug');
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger, spare: { threads: 2 } });
    const noSpare = createWorkerHandleFactory({ gpu: 'cpu', logger });
    const handles: WorkerModelHandle[] = [];
    try {
      await engines.spareReady();
      const spared = engines.createHandle(spec(model.path), { contextSize: 512, parallel: 1, threads: 1 }) as WorkerModelHandle;
      handles.push(spared);
      assert.equal((await spared.load()).engineStartedAhead, true);
      // The spare's lines go to the log of the model that takes it.
      const rehearsed = lines.filter((line) => /engine rehearsed ahead of need: a tiny model loaded and answered 2 tokens in \d+ ms/.test(line));
      assert.equal(rehearsed.length, 1, lines.join('\n'));
      assert.deepEqual(lines.filter((line) => /rehearsal failed/.test(line)), []);
      assert.ok((textOf(await collect(spared, greedy))).length > 0, 'the model that took it answers');
      // Without a spare, the Worker is made for the model and told it at once.
      const made = handleFor(noSpare, model.path);
      handles.push(made);
      assert.equal((await made.load()).engineStartedAhead, false);
      assert.equal(lines.filter((line) => /engine rehearsed/.test(line)).length, 1, 'a Worker told its model at once does not rehearse');
    } finally {
      await Promise.all(handles.map((h) => h.dispose()));
      await engines.close();
      await noSpare.close();
    }
  });

  test('without a spare, loads start their engine with the model, and close has nothing to stop', async () => {
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger() });
    await engines.spareReady();
    const handle = handleFor(engines, model.path);
    try {
      assert.equal((await handle.load()).engineStartedAhead, false);
    } finally {
      await handle.dispose();
      await engines.close();
    }
  });

  test('a model unloaded and asked for again loads with its GGUF header read ahead by the spare, and answers as before', async () => {
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger(), spare: { threads: 2 } });
    const handles: WorkerModelHandle[] = [];
    try {
      await engines.spareReady();
      const first = handleFor(engines, model.path);
      handles.push(first);
      assert.equal((await first.load()).headerReadAhead, false, 'nothing was unloaded before the first load');
      const before = textOf(await collect(first, greedy));
      await first.dispose();
      const again = handleFor(engines, model.path);
      handles.push(again);
      assert.equal((await again.load()).headerReadAhead, true, 'the spare read the header of the model just unloaded');
      assert.equal(textOf(await collect(again, greedy)), before);
    } finally {
      await Promise.all(handles.map((h) => h.dispose()));
      await engines.close();
    }
  });

  test('a header read ahead for one model is not used by the load of another', async () => {
    const other = await tinyModel();
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger: createSilentLogger(), spare: { threads: 2 } });
    const handles: WorkerModelHandle[] = [];
    try {
      await engines.spareReady();
      const first = handleFor(engines, model.path);
      handles.push(first);
      await first.load();
      await first.dispose();
      const second = handleFor(engines, other.path);
      handles.push(second);
      assert.equal((await second.load()).headerReadAhead, false);
    } finally {
      await Promise.all(handles.map((h) => h.dispose()));
      await engines.close();
      await other.cleanup();
    }
  });

  test('when the binaries chosen change while the server runs, it says so and the spare is replaced, so the next load still finds its engine up', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spare-binaries-'));
    // A decision file of the test's own: the Workers still load what the real one says, but the
    // spare must match this one's choice to be taken.
    const file = path.join(dir, 'native-engine.json');
    const { logger, waitFor } = recordingLogger();
    const engines = createWorkerHandleFactory({ gpu: 'cpu', logger, spare: { threads: 2 }, nativeBuildWatch: { file, intervalMs: 10 } });
    let handle: WorkerModelHandle | undefined;
    // Neither the idle spare nor the decision file's poll keeps a process alive; a server's listener does, here a timer.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await engines.spareReady();
      await writeFile(file, JSON.stringify({ decision: 'local', reason: 'measured faster', cmakeOptions: { GGML_NATIVE: 'ON' } }));
      assert.match(await waitFor(/later loads use the local build/), /GGML_NATIVE/);
      await engines.spareReady();
      handle = handleFor(engines, model.path);
      assert.equal((await handle.load()).engineStartedAhead, true, 'a spare of the old choice would have been refused');
    } finally {
      clearInterval(keepAlive);
      await handle?.dispose();
      await engines.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
