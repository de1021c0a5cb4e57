import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRuntimeManifest, runtimeId } from '../../../src/binary/manifest.js';

const HASH = 'a'.repeat(64);
const entry = (path: string, extra: Record<string, unknown> = {}) => ({ path, sha256: HASH, size: 3, executable: false, ...extra });
const manifest = (...files: unknown[]) => JSON.stringify({ files });

test('a well-formed manifest parses to its files in order', () => {
  const parsed = parseRuntimeManifest(manifest(entry('package.json'), entry('build/Release/peer_credentials.node', { executable: true })));
  assert.deepEqual(parsed.files.map((f) => [f.path, f.executable]), [['package.json', false], ['build/Release/peer_credentials.node', true]]);
});

test('a path that is absolute, climbs out, or is not plain is refused with its entry number', () => {
  for (const bad of ['/etc/passwd', '../outside', 'a/../../b', 'a//b', './a', 'a\\b', '']) {
    assert.throws(() => parseRuntimeManifest(manifest(entry('ok'), entry(bad))), /runtime manifest entry 1 is malformed/, bad);
  }
});

test('a bad hash, a negative or fractional size, a missing flag and a repeated path are refused', () => {
  assert.throws(() => parseRuntimeManifest(manifest(entry('a', { sha256: 'A'.repeat(64) }))), /entry 0 is malformed/);
  assert.throws(() => parseRuntimeManifest(manifest(entry('a', { size: -1 }))), /entry 0 is malformed/);
  assert.throws(() => parseRuntimeManifest(manifest(entry('a', { size: 1.5 }))), /entry 0 is malformed/);
  assert.throws(() => parseRuntimeManifest(manifest(entry('a', { executable: undefined }))), /entry 0 is malformed/);
  assert.throws(() => parseRuntimeManifest(manifest(entry('a'), entry('a'))), /lists a twice/);
  assert.throws(() => parseRuntimeManifest('{}'), /no "files" list/);
});

test('the runtime id is 16 hex digits that change with any byte of the manifest', () => {
  const one = runtimeId(manifest(entry('a')));
  assert.match(one, /^[0-9a-f]{16}$/);
  assert.equal(runtimeId(manifest(entry('a'))), one);
  assert.notEqual(runtimeId(manifest(entry('a', { size: 4 }))), one);
});
