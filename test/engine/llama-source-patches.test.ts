/**
 * Our patches to the llama.cpp that node-llama-cpp bundles. The builds skip a patch that no longer
 * applies with one line of output (scripts/build-native-engine.sh, scripts/build-llama-server.sh),
 * so a node-llama-cpp upgrade could drop a fix or a speed-up unnoticed: these tests notice. And the
 * native build's second, generically tuned copy of llamafile's sgemm (the Q8_0 patch) must compute
 * exactly what the prebuilt binaries compute.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { NATIVE_BUILD_FILE, type NativeBuildRecord } from '../../src/engine/worker/native-build.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NLC_LLAMA = path.join(ROOT, 'node_modules', 'node-llama-cpp', 'llama');
const SHARED_PATCHES = path.join(ROOT, 'scripts', 'llama-server-patches');
const NATIVE_PATCHES = path.join(ROOT, 'scripts', 'native-engine', 'patches');
const MEASURE = path.join(ROOT, 'scripts', 'native-engine', 'measure.ts');
const PROBE_MODEL = path.join(ROOT, '.cache', 'native-engine', 'tiny-q8_0.gguf');

const diffsIn = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.diff'))
    .sort()
    .map((name) => path.join(dir, name));

/** The cmake options of the local build when `make build` compiled one that works, else undefined. */
function localBuildOptions(): Record<string, string> | undefined {
  try {
    const stamp = readFileSync(path.join(NLC_LLAMA, 'localBuilds', 'model-runner.stamp'), 'utf8');
    if (stamp.split('\n')[1] === 'failed') return undefined;
    return (JSON.parse(readFileSync(NATIVE_BUILD_FILE, 'utf8')) as NativeBuildRecord).cmakeOptions;
  } catch {
    return undefined;
  }
}

/** Greedy tokens of the probe (a 48-token prompt batch, then 8 tokens) from one build, in a child process. */
async function probeTokens(binaries: 'local' | 'prebuilt', options?: Record<string, string>): Promise<number[]> {
  const args = ['--import', 'tsx', MEASURE, 'probe', binaries, PROBE_MODEL, ...(options ? [JSON.stringify(options)] : [])];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 120_000 });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { build: string; tokens: number[] };
  assert.equal(result.build, binaries === 'local' ? 'localBuild' : 'prebuilt', `the ${binaries} binaries ran`);
  return result.tokens;
}

describe('our patches to the bundled llama.cpp', () => {
  test('every patch applies to the source node-llama-cpp bundles, after its own patches, in the order the builds apply them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'llama-patches-'));
    try {
      // The index is enough for `git apply --cached`: no files are written out.
      await run('git', ['clone', '--quiet', '--no-checkout', path.join(NLC_LLAMA, 'gitRelease.bundle'), dir]);
      await run('git', ['-C', dir, 'read-tree', 'HEAD']);
      for (const patch of diffsIn(path.join(NLC_LLAMA, 'patches'))) await run('git', ['-C', dir, 'apply', '--cached', patch]);
      const ours = [...diffsIn(SHARED_PATCHES), ...diffsIn(NATIVE_PATCHES)];
      assert.ok(ours.some((p) => p.endsWith('sgemm-q8_0-generic-tune.diff')), 'the Q8_0 tuning patch is among them');
      for (const patch of ours) {
        await assert.doesNotReject(run('git', ['-C', dir, 'apply', '--cached', patch]), `${path.relative(ROOT, patch)} applies`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const options = localBuildOptions();
  test(
    "the local build's Q8_0 matrix products (its generically tuned sgemm copy) give the prebuilt binaries' greedy tokens",
    { skip: options && existsSync(PROBE_MODEL) ? false : 'no local build (make build compiles one)' },
    async () => {
      const local = await probeTokens('local', options);
      const prebuilt = await probeTokens('prebuilt');
      assert.equal(local.length, 8);
      assert.deepEqual(local, prebuilt);
    },
  );
});
