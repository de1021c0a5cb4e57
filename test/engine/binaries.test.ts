import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { readNativeBuildChoice } from '../../src/engine/worker/native-build.js';
import { loadHandle, tinyModel, type TinyModel } from './support.js';

describe('the llama.cpp binaries a model Worker runs', () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;
  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path);
  });
  after(async () => {
    await handle?.dispose();
    await model?.cleanup();
  });

  test('the Worker reports the build type that make build chose in build/native-engine.json', () => {
    // make build only records "local" after that build loaded and ran in a child process.
    const expected = readNativeBuildChoice().use === 'local' ? 'localBuild' : 'prebuilt';
    assert.equal(handle.info!.build, expected);
  });

  test('the backend shown by /engines/status names the build type and, on Linux, the ggml CPU variant', () => {
    const info = handle.info!;
    assert.ok(info.backend.includes(info.build!), info.backend);
    if (process.platform === 'linux') {
      assert.match(info.cpuVariant ?? '', /^[\w.]+$/);
      assert.ok(info.backend.includes(info.cpuVariant!), info.backend);
    }
  });
});
