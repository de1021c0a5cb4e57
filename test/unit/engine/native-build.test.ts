import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cpuVariantFromMaps, describeBinary } from '../../../src/engine/worker/binary-info.js';
import { nativeBuildChoiceFor, readNativeBuildChoice } from '../../../src/engine/worker/native-build.js';
import { decide } from '../../../scripts/native-engine/decide.js';

const OPTIONS = { GGML_NATIVE: 'ON', GGML_OPENMP: 'OFF' };

describe('the native build decision file', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const write = async (name: string, content: string) => {
    await writeFile(file(name), content);
    return file(name);
  };
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'native-build-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a missing file chooses the prebuilt binaries and says that make build writes it', () => {
    const choice = readNativeBuildChoice(file('absent.json'));
    assert.equal(choice.use, 'prebuilt');
    assert.match(choice.use === 'prebuilt' ? choice.reason : '', /no .*absent\.json.*make build/);
  });

  test('a file that is not JSON chooses the prebuilt binaries', async () => {
    const choice = readNativeBuildChoice(await write('broken.json', '{"decision": "loc'));
    assert.deepEqual(choice, { use: 'prebuilt', reason: `${file('broken.json')} is not valid JSON` });
  });

  test('JSON of the wrong shape chooses the prebuilt binaries', async () => {
    for (const content of ['[]', 'null', '{"decision": "fast"}', '{"decision": "local"}', '{"decision": "local", "cmakeOptions": {"GGML_NATIVE": 1}}']) {
      assert.equal(readNativeBuildChoice(await write('shape.json', content)).use, 'prebuilt', content);
    }
  });

  test('a local decision passes on exactly the recorded cmake options', async () => {
    const record = { decision: 'local', reason: 'faster', cmakeOptions: OPTIONS, key: 'abc', measurements: [] };
    assert.deepEqual(readNativeBuildChoice(await write('local.json', JSON.stringify(record))), { use: 'local', cmakeOptions: OPTIONS });
  });

  test('a local decision stands for a CPU Worker and gives way to a GPU backend asked for by name', async () => {
    const local = await write('local-gpu.json', JSON.stringify({ decision: 'local', reason: 'faster', cmakeOptions: OPTIONS }));
    const noGpu = async () => [false] as const;
    assert.deepEqual(await nativeBuildChoiceFor(false, noGpu, local), { use: 'local', cmakeOptions: OPTIONS });
    assert.deepEqual(await nativeBuildChoiceFor('auto', noGpu, local), { use: 'local', cmakeOptions: OPTIONS });
    const cuda = await nativeBuildChoiceFor('cuda', noGpu, local);
    assert.equal(cuda.use, 'prebuilt');
    assert.match(cuda.use === 'prebuilt' ? cuda.reason : '', /cuda backend was asked for and the local build is CPU-only/);
    const found = await nativeBuildChoiceFor('auto', async () => ['vulkan', false], local);
    assert.equal(found.use, 'prebuilt');
    assert.match(found.use === 'prebuilt' ? found.reason : '', /GPU backend is available \(vulkan\)/);
  });

  test('a prebuilt decision keeps its reason for the log', async () => {
    const record = { decision: 'prebuilt', reason: 'the local build is slower at q8_0 decode 0.60x', cmakeOptions: OPTIONS };
    assert.deepEqual(readNativeBuildChoice(await write('prebuilt.json', JSON.stringify(record))), { use: 'prebuilt', reason: record.reason });
  });
});

describe('which binaries a Worker reports', () => {
  const maps = (lib: string) => `7f00-7f10 r-xp 00000000 08:01 42 /x/node_modules/bins/linux-x64/${lib}\n`;

  test('the CPU variant is read from the mapped ggml CPU library', () => {
    assert.equal(cpuVariantFromMaps(maps('libggml-cpu-sapphirerapids.so'), 'prebuilt'), 'sapphirerapids');
    assert.equal(cpuVariantFromMaps(maps('libggml-cpu-x64.so'), 'prebuilt'), 'x64');
    assert.equal(cpuVariantFromMaps(maps('libggml-cpu.so'), 'localBuild'), 'native');
    assert.equal(cpuVariantFromMaps(maps('libggml-base.so'), 'prebuilt'), undefined);
  });

  test('a local decision that loaded the prebuilt binaries carries a reason to log', () => {
    const local = { use: 'local', cmakeOptions: OPTIONS } as const;
    assert.equal(describeBinary(local, 'localBuild', 'native').fallbackReason, undefined);
    assert.match(describeBinary(local, 'prebuilt', 'haswell').fallbackReason ?? '', /did not load/);
    assert.equal(describeBinary({ use: 'prebuilt', reason: 'x' }, 'prebuilt', undefined).fallbackReason, undefined);
  });
});

describe('the rule that picks the binaries', () => {
  const figure = (model: string, metric: 'prompt' | 'decode', localRuns: number[], prebuiltRuns: number[]) => ({
    model, metric, localRuns, prebuiltRuns,
    local: [...localRuns].sort((a, b) => a - b)[Math.floor(localRuns.length / 2)]!,
    prebuilt: [...prebuiltRuns].sort((a, b) => a - b)[Math.floor(prebuiltRuns.length / 2)]!,
  });

  test('a 1.9x gain on one figure is not thrown away for a 4% wobble on another', () => {
    // The case measured on a Zen 4 machine: Q8_0 prompt 0.96x, F16 prompt 1.91x, decodes 1.04-1.06x.
    const result = decide([
      figure('q8_0', 'prompt', [480, 470, 490], [500, 490, 505]),
      figure('q8_0', 'decode', [140, 141, 139], [134, 135, 133]),
      figure('f16', 'prompt', [565, 560, 570], [295, 296, 294]),
      figure('f16', 'decode', [60, 61, 60], [57, 58, 57]),
    ]);
    assert.equal(result.decision, 'local', result.reason);
    assert.match(result.reason, /f16 prompt 1\.92x \[1\.89-1\.94\]/);
    assert.match(result.reason, /combined 1\.19x/);
  });

  test('a figure clearly slower in every run keeps the prebuilt binaries and names it, whatever the others gain', () => {
    const result = decide([figure('q8_0', 'prompt', [1300, 1310, 1290], [1000, 1000, 1000]), figure('q8_0', 'decode', [48, 49, 47], [80, 81, 80])]);
    assert.equal(result.decision, 'prebuilt');
    assert.match(result.reason, /clearly slower at q8_0 decode 0\.60x/);
  });

  test('a figure whose runs straddle the floor is noise, not a veto', () => {
    const result = decide([figure('q8_0', 'prompt', [850, 1000, 990], [1000, 990, 1000]), figure('q8_0', 'decode', [80, 81, 80], [80, 80, 80])]);
    assert.equal(result.decision, 'local', result.reason);
  });

  test('slower overall without any figure clearly slower keeps the prebuilt binaries', () => {
    const result = decide([figure('q8_0', 'prompt', [950, 940, 960], [1000, 1000, 1000]), figure('q8_0', 'decode', [76, 77, 76], [80, 80, 80])]);
    assert.equal(result.decision, 'prebuilt');
    assert.match(result.reason, /slower overall .*combined 0\.95x/);
  });

  test('nothing measured, or a figure that is not a number, keeps the prebuilt binaries', () => {
    assert.equal(decide([]).decision, 'prebuilt');
    assert.equal(decide([{ model: 'q8_0', metric: 'prompt', local: Number.NaN, prebuilt: 1000 }]).decision, 'prebuilt');
  });
});
