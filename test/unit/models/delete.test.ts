import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { Catalog } from '../../../src/models/catalog.js';
import { RegistryClient } from '../../../src/registry/index.js';
import { createSilentLogger } from '../../../src/log.js';
import { openTempStore, storeFakeModel, type TempStore } from '../../support/catalog-fixtures.js';

describe('deleting models with Docker Model Runner semantics', () => {
  let temp: TempStore;
  let catalog: Catalog;

  beforeEach(async () => {
    temp = await openTempStore('delete');
    catalog = new Catalog({ store: temp.store, registry: new RegistryClient(), logger: createSilentLogger() });
  });
  afterEach(() => temp.dispose());

  test('deleting one of two tags only untags and keeps the model and its blobs', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'two tags', tags: ['docker.io/ai/x:latest', 'docker.io/ai/x:v2'] });
    const actions = await catalog.delete('ai/x:v2');
    assert.deepEqual(actions, [{ Untagged: 'docker.io/ai/x:v2' }]);
    const entry = await temp.store.getModel(id);
    assert.deepEqual(entry?.tags, ['docker.io/ai/x:latest']);
    for (const file of entry!.files) assert.equal(await temp.store.hasBlob(file), true);
  });

  test('deleting the last tag removes the model and its blobs', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'one tag', tags: ['docker.io/ai/y:latest'] });
    const files = (await temp.store.getModel(id))!.files;
    const actions = await catalog.delete('y');
    assert.deepEqual(actions, [{ Untagged: 'docker.io/ai/y:latest' }, { Deleted: id }]);
    assert.equal(await temp.store.getModel(id), undefined);
    for (const file of files) assert.equal(await temp.store.hasBlob(file), false);
  });

  test('deleting by ID a model with several tags is a conflict without force and changes nothing', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'by id', tags: ['docker.io/ai/z:latest', 'docker.io/ai/z:v1'] });
    await assert.rejects(catalog.delete(id), (err: AppError) => {
      assert.equal(err.code, 'conflict');
      assert.match(err.message, /must be forced/);
      return true;
    });
    assert.deepEqual((await temp.store.getModel(id))?.tags, ['docker.io/ai/z:latest', 'docker.io/ai/z:v1']);
  });

  test('deleting by short ID with force untags every tag and deletes the model', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'forced', tags: ['docker.io/ai/f:latest', 'docker.io/ai/f:v1'] });
    const actions = await catalog.delete(id.slice(7, 19), { force: true });
    assert.deepEqual(actions, [{ Untagged: 'docker.io/ai/f:latest' }, { Untagged: 'docker.io/ai/f:v1' }, { Deleted: id }]);
    assert.equal(await temp.store.getModel(id), undefined);
  });

  test('deleting by ID a model with one tag needs no force', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'single', tags: ['docker.io/ai/s:latest'] });
    assert.deepEqual(await catalog.delete(id), [{ Untagged: 'docker.io/ai/s:latest' }, { Deleted: id }]);
  });

  test('a blob shared with another model survives the deletion of one of them', async () => {
    const keep = await storeFakeModel(temp.store, { layer: 'shared layer', tags: ['docker.io/ai/keep:latest'], created: '2025-01-01T00:00:00Z' });
    const gone = await storeFakeModel(temp.store, { layer: 'shared layer', tags: ['docker.io/ai/gone:latest'], created: '2025-02-02T00:00:00Z' });
    assert.notEqual(keep, gone);
    await catalog.delete('gone');
    for (const file of (await temp.store.getModel(keep))!.files) assert.equal(await temp.store.hasBlob(file), true);
  });

  test('deleting a model also forgets its runtime settings', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'with settings', tags: ['docker.io/ai/cfg:latest'] });
    await catalog.settings.set(id, { contextSize: 2048 });
    assert.deepEqual(await catalog.settings.get(id), { contextSize: 2048 });
    await catalog.delete('cfg');
    assert.deepEqual(await catalog.settings.get(id), {});
  });

  test('deleting an unknown model is not_found', async () => {
    await assert.rejects(catalog.delete('missing'), (err: AppError) => err.code === 'not_found');
  });
});
