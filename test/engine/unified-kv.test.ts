/**
 * One KV cache shared by a model's sequences (native/llama-context-params). Each engine runs in
 * its own child process (isolation 'process'), because the library acts process-wide: that is
 * how one test sees both layouts side by side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { unifiedKvLibraryPresent } from '../../src/engine/unified-kv-library.js';
import { collect, doneOf, loadHandle, tinyModel, type TinyModel } from './support.js';

const CONTEXT = 512;
/** About 300 tokens with the tiny model's nearly one-token-per-character vocabulary. */
const promptA = 'the quick brown fox jumps over the lazy dog. '.repeat(9);
const promptB = 'pack my box with five dozen liquor jugs now! '.repeat(9);

async function cachedTokensOf(handle: WorkerModelHandle, prompt: string): Promise<number> {
  const done = doneOf(await collect(handle, { kind: 'completion', prompt, sampling: { maxTokens: 4, temperature: 0, ignoreEos: true } }));
  return done.usage.cachedTokens ?? 0;
}

describe('unified KV cache', { skip: !unifiedKvLibraryPresent() && 'the unified-KV library is not built (make build)' }, () => {
  let model: TinyModel;
  let shared: WorkerModelHandle;
  let separate: WorkerModelHandle;

  before(async () => {
    model = await tinyModel();
    const options = { contextSize: CONTEXT, parallel: 2, isolation: 'process' as const };
    shared = await loadHandle(model.path, { ...options, unifiedKv: true });
    separate = await loadHandle(model.path, { ...options, unifiedKv: false });
  });
  after(async () => {
    await shared?.dispose();
    await separate?.dispose();
    await model?.cleanup();
  });

  it('gives the sequences one cache of the context size, which costs less than one cache each', () => {
    assert.equal(shared.info?.kvUnified, true);
    assert.equal(shared.info?.kvCells, CONTEXT);
    assert.equal(shared.info?.contextSize, CONTEXT);
    assert.equal(separate.info?.kvUnified, false);
    assert.equal(separate.info?.kvCells, CONTEXT * 2);
    assert.ok(shared.info!.memoryBytes < separate.info!.memoryBytes, `${shared.info!.memoryBytes} < ${separate.info!.memoryBytes}`);
  });

  it('lets a request use most of the shared cache: an idle sequence gives up its cached prefix for it', async () => {
    const tokensA = (await shared.tokenize(promptA)).length;
    assert.ok(tokensA > CONTEXT / 2 && tokensA < CONTEXT - 16, `prompt A is ${tokensA} tokens`);
    await cachedTokensOf(shared, promptA);
    assert.ok((await cachedTokensOf(shared, promptA)) > 0, 'a repeated prompt reuses its prefix');
    // B needs more cells than A leaves free: A's idle prefix is erased to make room.
    await cachedTokensOf(shared, promptB);
    assert.equal(await cachedTokensOf(shared, promptA), 0);
  });

  it('keeps every idle prefix when each sequence has a cache of its own', async () => {
    await cachedTokensOf(separate, promptA);
    await cachedTokensOf(separate, promptB);
    assert.ok((await cachedTokensOf(separate, promptA)) > 0);
  });
});
