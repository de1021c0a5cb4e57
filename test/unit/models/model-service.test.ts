import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { LoadSpec } from '../../../src/engine/types.js';
import { AppError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { Catalog, ModelService, openLocalModels } from '../../../src/models/index.js';
import { RegistryClient } from '../../../src/registry/index.js';
import { openTempStore, storeFakeModel, type TempStore } from '../../support/catalog-fixtures.js';
import { harness, type Harness } from '../engine/fakes.js';

/** What the scheduler needs to load a stored model; the fake handles never read the file. */
function specOf(id: string, name: string): LoadSpec {
  return { id, name, modelPath: `/nowhere/${id}.gguf`, mode: 'completion', settings: {} };
}

function isCode(code: string) {
  return (err: unknown) => err instanceof AppError && err.code === code;
}

describe('the model service: one policy for resolve, delete, configure and unload', () => {
  let temp: TempStore;
  let catalog: Catalog;
  let engine: Harness;
  let models: ModelService;
  let registry: RegistryClient;

  beforeEach(async () => {
    temp = await openTempStore('model-service');
    registry = new RegistryClient({ retries: 0 });
    catalog = new Catalog({ store: temp.store, registry, logger: createSilentLogger() });
    engine = harness();
    models = new ModelService({ catalog, engine: engine.scheduler });
  });
  afterEach(async () => {
    await engine.scheduler.close();
    registry.dispose();
    await temp.dispose();
  });

  test('deleting an idle loaded model unloads it, then removes its files', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'idle', tags: ['docker.io/ai/idle:latest'] });
    (await engine.scheduler.acquire(specOf(id, 'ai/idle'))).release();
    assert.equal(engine.scheduler.ps().length, 1);

    const outcome = await models.delete('ai/idle');
    assert.deepEqual(outcome, { actions: [{ Untagged: 'docker.io/ai/idle:latest' }, { Deleted: id }], deletedId: id, unloadedRunners: 1 });
    assert.equal(engine.handles[0]!.disposed, true);
    assert.deepEqual(engine.scheduler.ps(), []);
    assert.equal(await temp.store.getModel(id), undefined);
    await assert.rejects(models.resolve('ai/idle'), isCode('not_found'));
  });

  test('deleting a model that serves a request is a conflict that changes nothing; forced, its runner unloads once the request ends', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'busy', tags: ['docker.io/ai/busy:latest'] });
    const lease = await engine.scheduler.acquire(specOf(id, 'ai/busy'));
    await assert.rejects(models.delete('ai/busy'), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'conflict');
      assert.match(err.message, /in use/);
      return true;
    });
    assert.ok(await temp.store.getModel(id));
    assert.equal(engine.handles[0]!.disposed, false);

    // Forced: the files go, and the runner finishes what it serves, takes nothing new, then unloads.
    const forced = await models.delete('ai/busy', { force: true });
    assert.equal(forced.deletedId, id);
    assert.equal(forced.unloadedRunners, 0);
    assert.equal(await temp.store.getModel(id), undefined);
    assert.equal(engine.handles[0]!.disposed, false);
    const stopped = new Promise<void>((resolve) => {
      const dispose = engine.handles[0]!.dispose.bind(engine.handles[0]!);
      engine.handles[0]!.dispose = async () => {
        await dispose();
        resolve();
      };
    });
    lease.release();
    await stopped;
    assert.equal(engine.handles[0]!.disposed, true);
    assert.deepEqual(engine.scheduler.ps(), []);
  });

  test('deleting one of two tags only untags: a busy model is no obstacle and the engine is not told', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'two tags', tags: ['docker.io/ai/a:latest', 'docker.io/ai/b:latest'] });
    const lease = await engine.scheduler.acquire(specOf(id, 'ai/a'));
    const outcome = await models.delete('ai/b');
    assert.deepEqual(outcome, { actions: [{ Untagged: 'docker.io/ai/b:latest' }], unloadedRunners: 0 });
    assert.deepEqual((await temp.store.getModel(id))?.tags, ['docker.io/ai/a:latest']);
    lease.release();
    assert.equal(engine.scheduler.ps().length, 1);
  });

  test('deleting by ID a model two tags name needs force, and nothing is unloaded before it is given', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'by id', tags: ['docker.io/ai/x:latest', 'docker.io/ai/y:latest'] });
    (await engine.scheduler.acquire(specOf(id, 'ai/x'))).release();
    await assert.rejects(models.delete(id), isCode('conflict'));
    assert.equal(engine.scheduler.ps().length, 1);
    const forced = await models.delete(id, { force: true });
    assert.deepEqual(forced.actions, [{ Untagged: 'docker.io/ai/x:latest' }, { Untagged: 'docker.io/ai/y:latest' }, { Deleted: id }]);
    assert.equal(forced.unloadedRunners, 1);
  });

  test('an unknown name is not_found for delete, show and configure, and unload reports it as unknown', async () => {
    await assert.rejects(models.delete('ai/never'), isCode('not_found'));
    await assert.rejects(models.show('ai/never'), isCode('not_found'));
    await assert.rejects(models.configure('ai/never', 'completion', { contextSize: 512 }), isCode('not_found'));
    assert.deepEqual(await models.unload({ names: ['ai/never'] }), { unloadedRunners: 0, unknown: ['ai/never'] });
  });

  test('unload resolves names to IDs, and a name no stored model has still unloads a runner loaded under it', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'unload', tags: ['docker.io/ai/u:latest'] });
    (await engine.scheduler.acquire(specOf(id, 'ai/u'))).release();
    (await engine.scheduler.acquire(specOf(`sha256:${'e'.repeat(64)}`, 'ai/gone'))).release();
    assert.deepEqual(await models.unload({ names: ['u', 'ai/gone'] }), { unloadedRunners: 2, unknown: ['ai/gone'] });
    assert.deepEqual(engine.scheduler.ps(), []);
  });

  test('configure persists the settings, then unloads the idle model so its next load uses them; a busy model keeps them for later', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'configure', tags: ['docker.io/ai/c:latest'] });
    (await engine.scheduler.acquire(specOf(id, 'ai/c'))).release();
    assert.deepEqual(await models.configure('ai/c', 'completion', { contextSize: 1024 }), { id, settings: { contextSize: 1024 } });
    assert.deepEqual(engine.scheduler.ps(), []);

    const lease = await engine.scheduler.acquire(specOf(id, 'ai/c'));
    const busy = await models.configure('c', 'completion', { parallel: 2 });
    assert.deepEqual(busy.settings, { contextSize: 1024, parallel: 2 });
    assert.equal(busy.pending?.code, 'conflict');
    assert.equal(engine.handles[1]!.disposed, false, 'the busy runner keeps serving');
    assert.deepEqual((await models.show('c')).settings, { contextSize: 1024, parallel: 2 });
    lease.release();
    assert.deepEqual(await models.configured('ai/c'), [{ id, name: 'docker.io/ai/c:latest', settings: { contextSize: 1024, parallel: 2 } }]);
  });

  test('configuring a model that is not a reranker for reranking is refused before anything is stored', async () => {
    await storeFakeModel(temp.store, { layer: 'not a reranker', tags: ['docker.io/ai/plain:latest'] });
    await assert.rejects(models.configure('plain', 'reranking', { contextSize: 512 }), isCode('bad_request'));
    assert.deepEqual(await models.configured(), []);
  });

  test('show gives the model, its capabilities and its settings', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'show', tags: ['docker.io/ai/s:latest'] });
    const shown = await models.show('s');
    assert.equal(shown.model.id, id);
    assert.deepEqual(shown.model.tags, ['docker.io/ai/s:latest']);
    assert.ok(shown.capabilities.includes('completion'));
    assert.deepEqual(shown.settings, {});
  });

  test('purge unloads every idle model, then empties the store', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'purge', tags: ['docker.io/ai/p:latest'] });
    (await engine.scheduler.acquire(specOf(id, 'ai/p'))).release();
    await models.purge();
    assert.deepEqual(engine.scheduler.ps(), []);
    assert.deepEqual(await temp.store.listModels(), []);
  });
});

describe('the model service of a command run with no server', () => {
  let temp: TempStore;

  beforeEach(async () => {
    temp = await openTempStore('local-models');
  });
  afterEach(() => temp.dispose());

  test('a store held by another opener is refused with store_locked, and a free one is opened, used and released', async () => {
    await storeFakeModel(temp.store, { layer: 'local', tags: ['docker.io/ai/l:latest'] });
    const root = `${temp.dir}/models`;
    await assert.rejects(openLocalModels(root), isCode('store_locked'));
    await temp.store.close();

    const local = await openLocalModels(root);
    try {
      const outcome = await local.models.delete('l');
      assert.equal(outcome.unloadedRunners, 0);
      assert.equal(outcome.deletedId !== undefined, true);
      assert.deepEqual(await local.catalog.list(), []);
    } finally {
      await local.close();
    }
    // Released: the next opener gets the lock.
    const again = await openLocalModels(root);
    await again.close();
  });
});
