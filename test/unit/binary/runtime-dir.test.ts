import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInside, runtimeDirFor, userCacheDir } from '../../../src/binary/runtime-dir.js';

const noHome = () => '/from-passwd';

test('the cache is $XDG_CACHE_HOME when it is absolute, else ~/.cache from $HOME, else from the password database', () => {
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }, noHome), '/xdg');
  assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative/xdg', HOME: '/home/u' }, noHome), '/home/u/.cache');
  assert.equal(userCacheDir({ HOME: '/home/u' }, noHome), '/home/u/.cache');
  assert.equal(userCacheDir({}, noHome), '/from-passwd/.cache');
});

test("a build's runtime folder is <cache>/model-runner/<id>", () => {
  assert.equal(runtimeDirFor('0123456789abcdef', { HOME: '/home/u' }, noHome), '/home/u/.cache/model-runner/0123456789abcdef');
});

test('only absolute paths strictly inside the runtime folder count as inside it', () => {
  const dir = '/c/model-runner/abc';
  assert.equal(isInside(dir, '/c/model-runner/abc/dist/engine/worker/engine-child.js'), true);
  assert.equal(isInside(dir, '/c/model-runner/abc'), false);
  assert.equal(isInside(dir, '/c/model-runner/abc/../abd/x.js'), false);
  assert.equal(isInside(dir, '/c/model-runner/abcd/x.js'), false);
  assert.equal(isInside(dir, 'dist/engine/worker/engine-child.js'), false);
  assert.equal(isInside(dir, 'serve'), false);
});
