/**
 * A GGUF header read ahead (src/engine/worker/gguf-read-ahead.ts) through node-llama-cpp's own
 * readGgufFileInfo, as its loadModel calls it: the bundle's hook hands the header out once, for
 * the same unchanged file only.
 */
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { readGgufFileInfo } from '#node-llama-cpp';
import { readAhead } from '../../src/engine/worker/gguf-read-ahead.js';
import { tinyModel, type TinyModel } from './support.js';

/** How node-llama-cpp's loadModel reads a model's header. */
const asLoadModelReads = (file: string) => readGgufFileInfo(file, { sourceType: 'filesystem', signal: undefined });

describe('a GGUF header read ahead', () => {
  let model: TinyModel;
  let other: TinyModel;
  before(async () => {
    model = await tinyModel();
    other = await tinyModel();
  });
  after(async () => {
    await model?.cleanup();
    await other?.cleanup();
  });

  test('the next read of that file as loadModel reads it gets the header read ahead, once', async () => {
    const ahead = await readAhead(model.path);
    assert.ok(ahead, 'the header was read');
    assert.equal(await asLoadModelReads(model.path), ahead, 'handed out as it was read');
    const again = await asLoadModelReads(model.path);
    assert.notEqual(again, ahead, 'a second read parses the file');
    assert.deepEqual(again.metadata, ahead.metadata);
  });

  test('a read of another file, or with other options, parses its own file and leaves the header for its model', async () => {
    const ahead = await readAhead(model.path);
    assert.notEqual(await asLoadModelReads(other.path), ahead);
    assert.notEqual(await readGgufFileInfo(model.path, { sourceType: 'filesystem', readTensorInfo: false }), ahead);
    assert.equal(await asLoadModelReads(model.path), ahead);
  });

  test('a file changed since it was read ahead is parsed afresh', async () => {
    const ahead = await readAhead(model.path);
    const later = new Date(Date.now() + 60_000);
    await utimes(model.path, later, later);
    assert.notEqual(await asLoadModelReads(model.path), ahead);
  });

  test('a file that cannot be read ahead is left to the load, which reports it', async () => {
    assert.equal(await readAhead(`${model.path}.missing`), undefined);
    await assert.rejects(asLoadModelReads(`${model.path}.missing`), /ENOENT/);
  });
});
