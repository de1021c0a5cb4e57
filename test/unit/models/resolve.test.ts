import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { findByPartialName, resolveModel, splitName } from '../../../src/models/resolve.js';
import { openTempStore, storeFakeModel, type TempStore } from '../../support/catalog-fixtures.js';

describe('resolving model names against a real store', () => {
  let temp: TempStore;
  let smollm: string;
  let local: string;
  let other: string;

  before(async () => {
    temp = await openTempStore('resolve');
    smollm = await storeFakeModel(temp.store, { layer: 'smollm2 weights', tags: ['docker.io/ai/smollm2:latest', 'docker.io/ai/smollm2:360M'] });
    local = await storeFakeModel(temp.store, { layer: 'local weights', tags: ['127.0.0.1:5000/team/qwen:Q4'] });
    other = await storeFakeModel(temp.store, { layer: 'other weights', tags: ['docker.io/myorg/gemma:latest'] });
  });
  after(() => temp.dispose());

  test('a short name resolves to its normalised docker.io/ai tag', async () => {
    const found = await resolveModel(temp.store, 'smollm2');
    assert.equal(found.id, smollm);
    assert.equal(found.tag, 'docker.io/ai/smollm2:latest');
  });

  test('a name with an explicit tag resolves to that tag only', async () => {
    const found = await resolveModel(temp.store, 'ai/smollm2:360M');
    assert.equal(found.tag, 'docker.io/ai/smollm2:360M');
    await assert.rejects(resolveModel(temp.store, 'ai/smollm2:missing'), (err: AppError) => err.code === 'not_found');
  });

  test('the full ID, the sha256-prefixed ID and the 12-hex short ID all resolve without a tag', async () => {
    const hex = local.slice('sha256:'.length);
    for (const form of [local, hex, hex.slice(0, 12), hex.toUpperCase()]) {
      const found = await resolveModel(temp.store, form);
      assert.equal(found.id, local, form);
      assert.equal(found.tag, undefined, form);
    }
  });

  test('a name reference pinned by digest resolves to the model with that ID', async () => {
    const found = await resolveModel(temp.store, `ai/anything@${other}`);
    assert.equal(found.id, other);
    assert.equal(found.tag, undefined);
  });

  test('a bare repository name matches a tag from another registry by its last path segment', async () => {
    const found = await resolveModel(temp.store, 'qwen:Q4');
    assert.equal(found.id, local);
    assert.equal(found.tag, '127.0.0.1:5000/team/qwen:Q4');
    assert.equal((await resolveModel(temp.store, 'qwen')).id, local);
    assert.equal((await resolveModel(temp.store, 'team/qwen')).id, local);
  });

  test('a partial name does not match when its tag differs or its path is not a suffix', async () => {
    await assert.rejects(resolveModel(temp.store, 'qwen:Q8'), (err: AppError) => err.code === 'not_found');
    await assert.rejects(resolveModel(temp.store, 'other/qwen'), (err: AppError) => err.code === 'not_found');
    await assert.rejects(resolveModel(temp.store, 'wen'), (err: AppError) => err.code === 'not_found');
  });

  test('an unknown model is not_found with a message that names it', async () => {
    await assert.rejects(resolveModel(temp.store, 'nothing-here'), (err: AppError) => {
      assert.equal(err.code, 'not_found');
      assert.equal(err.message, 'model "nothing-here" not found');
      return true;
    });
  });

  test('an unknown sha256 ID is not_found rather than an invalid reference', async () => {
    await assert.rejects(resolveModel(temp.store, `sha256:${'0'.repeat(64)}`), (err: AppError) => err.code === 'not_found');
  });

  test('names that are neither references nor IDs are invalid_reference, including traversal attempts', async () => {
    for (const bad of ['', '   ', '../../etc/passwd', 'ai/../x', 'UPPER CASE', 'a:b:c', 'x@sha256:zz', 'ai//x']) {
      await assert.rejects(resolveModel(temp.store, bad), (err: AppError) => err.code === 'invalid_reference', JSON.stringify(bad));
    }
  });
});

describe('partial name matching', () => {
  const entries = [
    { id: 'sha256:a', tags: ['docker.io/ai/smollm2:360M'], files: [] },
    { id: 'sha256:b', tags: ['127.0.0.1:5000/ai/smollm2:latest'], files: [] },
  ];

  test('without a typed tag a latest tag wins over an earlier match with another tag', () => {
    assert.equal(findByPartialName(entries, 'smollm2')?.id, 'sha256:b');
  });

  test('with a typed tag only that tag matches', () => {
    assert.equal(findByPartialName(entries, 'smollm2:360M')?.id, 'sha256:a');
    assert.equal(findByPartialName(entries, 'smollm2:7B'), undefined);
  });

  test('a registry port is not mistaken for a tag when splitting names', () => {
    assert.deepEqual(splitName('127.0.0.1:5000/ai/x'), { segments: ['127.0.0.1:5000', 'ai', 'x'] });
    assert.deepEqual(splitName('127.0.0.1:5000/ai/x:v1'), { segments: ['127.0.0.1:5000', 'ai', 'x'], tag: 'v1' });
  });
});
