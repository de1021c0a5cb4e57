/**
 * ggml's large CPU buffers (native/llama-context-params/cpu-buffers.cc): huge pages, and fresh
 * pages that llama.cpp's first clear of a KV cache does not have to write. The engine runs in a
 * child process (isolation 'process'): the interposer acts process-wide, and the child's counts
 * and memory are then this model's alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MODEL_PRESETS } from '../../src/gguf/presets.js';
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

/** A KV cache of 4 MiB on the tiny model: above one 2 MiB huge page, so mapped on its own. */
const CELLS = 16384;
const tiny = MODEL_PRESETS.tiny;
/** K and V, f16, for every layer: what llama.cpp allocates as one buffer. */
const KV_BYTES = CELLS * tiny.blockCount * 2 * tiny.headCountKv * (tiny.embeddingLength / tiny.headCount) * 2;

/** Size and resident bytes of each anonymous mapping of a process. */
function anonymousMappings(pid: number): Array<{ size: number; rss: number }> {
  const mappings: Array<{ size: number; rss: number; anonymous: boolean }> = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) mappings.push({ size: 0, rss: 0, anonymous: header[1]!.trim() === '' });
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (field && mappings.length > 0) mappings.at(-1)![field[1] === 'Size' ? 'size' : 'rss'] = Number(field[2]) * 1024;
  }
  return mappings.filter((m) => m.anonymous);
}

const skip = process.platform !== 'linux' ? 'huge pages are asked for on Linux only' : !unifiedKvLibraryPresent() ? 'the interposer library is not built (make build)' : false;

describe("ggml's large CPU buffers", { skip }, () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;

  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path, { contextSize: CELLS, parallel: 1, isolation: 'process' });
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

  it('a KV cache is not written whole when the context is created: its first clear finds fresh pages, and only the pages of the cells used become resident', async () => {
    assert.ok((handle.info?.clearsSkipped ?? 0) >= 1, `first clears skipped: ${handle.info?.clearsSkipped}`);
    const done = doneOf(await collect(handle, { kind: 'completion', prompt: 'hello there', sampling: { maxTokens: 16, temperature: 0, ignoreEos: true } }));
    assert.equal(done.usage.completionTokens, 16);
    const cache = anonymousMappings(handle.pid!).filter((m) => m.size === KV_BYTES);
    assert.ok(cache.length > 0, `a mapping of the cache's ${KV_BYTES} bytes`);
    // ~20 of 16384 cells used: a few pages per layer, not the whole cache.
    assert.ok(cache.some((m) => m.rss <= KV_BYTES / 4), `resident: ${cache.map((m) => m.rss).join(', ')} of ${KV_BYTES} bytes`);
  });
});
