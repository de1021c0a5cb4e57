import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createModelsRouter } from '../../src/http/docker/models-router.js';
import { createSilentLogger } from '../../src/log.js';
import { Catalog, ModelService } from '../../src/models/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { openTempStore, storeFakeModel, type TempStore } from '../support/catalog-fixtures.js';
import { request, startTestServer, type TestServer } from './socket-client.js';

/** What the stand-in engine was asked to unload or retire, and whether the model was still stored then. */
interface Call {
  hook: 'retireModel' | 'unloadAll';
  id?: string;
  storedModels: number;
}

describe('deleting a model has the engine let go of it first', () => {
  let temp: TempStore;
  let catalog: Catalog;
  let server: TestServer;
  let calls: Call[];
  const busy = new Set<string>();

  const del = (urlPath: string) => request(server.socketPath, urlPath, { method: 'DELETE' });
  const stored = async () => (await temp.store.listModels()).length;

  before(async () => {
    temp = await openTempStore('router-unload');
    catalog = new Catalog({ store: temp.store, registry: new RegistryClient({ retries: 0 }), logger: createSilentLogger() });
    const engine = {
      ps: () => [...busy].map((id) => ({ id, inUse: 1, loading: false })),
      async unload(selector: { all?: boolean; models?: string[] }) {
        if (selector.all) calls.push({ hook: 'unloadAll', storedModels: await stored() });
        return 0;
      },
      async reconfigure() {},
      async retire(selector: { models: string[] }) {
        for (const id of selector.models) calls.push({ hook: 'retireModel', id, storedModels: await stored() });
        return 0;
      },
    };
    const router = createModelsRouter({
      catalog,
      models: new ModelService({ catalog, engine }),
      logger: createSilentLogger(),
      maxUploadBytes: 1024,
      uploadDir: path.join(temp.dir, 'uploads'),
      backendDiskUsage: async () => 0,
    });
    server = await startTestServer([router]);
  });

  beforeEach(async () => {
    calls = [];
    busy.clear();
    await temp.store.purge();
  });

  after(async () => {
    await server.close();
    await temp.dispose();
  });

  test('deleting a model by its last tag retires its runners by ID while it is still stored', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'last tag', tags: ['docker.io/ai/last:latest'] });
    const reply = await del('/models/ai/last');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), [{ Untagged: 'docker.io/ai/last:latest' }, { Deleted: id }]);
    assert.deepEqual(calls, [{ hook: 'retireModel', id, storedModels: 1 }]);
    assert.equal(await stored(), 0);
  });

  test('deleting one of two tags only untags, and unloads nothing', async () => {
    await storeFakeModel(temp.store, { layer: 'two tags', tags: ['docker.io/ai/one:latest', 'docker.io/ai/two:latest'] });
    const reply = await del('/models/ai/one');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), [{ Untagged: 'docker.io/ai/one:latest' }]);
    assert.deepEqual(calls, []);
  });

  test('deleting by ID a model with two tags is refused by the catalog before anything is unloaded', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'by id', tags: ['docker.io/ai/x1:latest', 'docker.io/ai/x2:latest'] });
    assert.equal((await del(`/models/${id}`)).status, 409);
    assert.deepEqual(calls, []);
    const forced = await del(`/models/${id}?force`);
    assert.equal(forced.status, 200);
    assert.deepEqual(calls, [{ hook: 'retireModel', id, storedModels: 1 }]);
  });

  test('deleting a model in use is a 409 that keeps the model, unless forced', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'busy', tags: ['docker.io/ai/busy:latest'] });
    busy.add(id);
    const refused = await del('/models/ai/busy');
    assert.equal(refused.status, 409);
    assert.equal(refused.text.trim(), 'model "ai/busy" is in use; try again when its requests finish, or force the delete');
    assert.deepEqual(calls, []);
    assert.equal(await stored(), 1);

    const forced = await del('/models/ai/busy?force');
    assert.equal(forced.status, 200);
    assert.deepEqual(calls, [{ hook: 'retireModel', id, storedModels: 1 }]);
    assert.equal(await stored(), 0);
  });

  test('untagging a model in use is no conflict: the model stays', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'busy two tags', tags: ['docker.io/ai/b1:latest', 'docker.io/ai/b2:latest'] });
    busy.add(id);
    assert.equal((await del('/models/ai/b1')).status, 200);
    assert.deepEqual(calls, []);
  });

  test('a name that matches no model is a 404 and unloads nothing', async () => {
    assert.equal((await del('/models/ai/never-stored')).status, 404);
    assert.deepEqual(calls, []);
  });

  test('purging unloads every model before the store is wiped', async () => {
    await storeFakeModel(temp.store, { layer: 'purge a', tags: ['docker.io/ai/pa:latest'] });
    await storeFakeModel(temp.store, { layer: 'purge b', tags: ['docker.io/ai/pb:latest'] });
    const reply = await del('/models/purge');
    assert.equal(reply.status, 200);
    assert.deepEqual(calls, [{ hook: 'unloadAll', storedModels: 2 }]);
    assert.equal(await stored(), 0);
  });
});
