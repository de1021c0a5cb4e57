/**
 * Huge pages for ggml's large CPU buffers (native/llama-context-params/huge-pages.cc). The engine
 * runs in a child process (isolation 'process'): the interposer acts process-wide, and the child's
 * count of buffers given huge pages is then this model's alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { unifiedKvLibraryPresent } from '../../src/engine/unified-kv-library.js';
import { collect, doneOf, loadHandle, tinyModel, type TinyModel } from './support.js';

/** The kernel's transparent huge page mode: [always], [madvise] or [never]. */
function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

const skip = process.platform !== 'linux' ? 'huge pages are asked for on Linux only' : !unifiedKvLibraryPresent() ? 'the interposer library is not built (make build)' : false;

describe('huge pages for the engine buffers', { skip }, () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;

  before(async () => {
    model = await tinyModel();
    // 8192 cells: a KV cache of several MiB, far above one 2 MiB huge page.
    handle = await loadHandle(model.path, { contextSize: 8192, parallel: 1, isolation: 'process' });
  });
  after(async () => {
    await handle?.dispose();
    await model?.cleanup();
  });

  it(`marks the context's large buffers for huge pages (this kernel's mode: ${thpMode() ?? 'unknown'}), and the model still generates`, async () => {
    assert.ok((handle.info?.hugePageBuffers ?? 0) >= 1, `buffers given huge pages: ${handle.info?.hugePageBuffers}`);
    const done = doneOf(await collect(handle, { kind: 'completion', prompt: 'hello there', sampling: { maxTokens: 8, temperature: 0, ignoreEos: true } }));
    assert.equal(done.usage.completionTokens, 8);
  });
});
