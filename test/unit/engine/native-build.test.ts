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
  const figure = (metric: 'prompt' | 'decode', local: number, prebuilt: number) => ({ model: 'q8_0', metric, local, prebuilt });

  test('the local build wins when no figure is more than 3% slower', () => {
    assert.equal(decide([figure('prompt', 1000, 1020), figure('decode', 80, 80)]).decision, 'local');
  });

  test('one figure more than 3% slower keeps the prebuilt binaries and names it', () => {
    const result = decide([figure('prompt', 1300, 1000), figure('decode', 48, 80)]);
    assert.equal(result.decision, 'prebuilt');
    assert.match(result.reason, /q8_0 decode 0\.60x/);
  });

  test('nothing measured, or a figure that is not a number, keeps the prebuilt binaries', () => {
    assert.equal(decide([]).decision, 'prebuilt');
    assert.equal(decide([figure('prompt', Number.NaN, 1000)]).decision, 'prebuilt');
  });
});
