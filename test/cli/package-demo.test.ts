import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateModel } from '../../src/gguf/index.js';
import { materializeBundle } from '../../src/models/bundle.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import { startRegistry } from '../support/registry-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source as a child process; environment settings that would redirect it are removed. */
function cli(args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.MODELS_PATH;
  delete env.DEFAULT_REGISTRY;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the package and demo commands', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-cli-'));
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  test('demo stores a tiny model as docker.io/ai/demo:latest and gives the same ID when run again', async () => {
    const modelsPath = path.join(dir, 'demo-store');
    const first = await cli(['demo', '--models-path', modelsPath]);
    assert.equal(first.code, 0, first.stderr);
    const id = first.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const second = await cli(['demo', '--models-path', modelsPath]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), id);

    const store = await openStore(modelsPath);
    try {
      const entry = await store.findByTag('docker.io/ai/demo:latest');
      assert.equal(entry?.id, id);
      assert.equal((await store.listModels()).length, 1);
      const bundle = await materializeBundle(store, id);
      assert.equal(path.basename(bundle.modelPath), 'model.gguf');
    } finally {
      await store.close();
    }
  });

  test('package stores the model under the canonical form of the reference', async () => {
    const modelsPath = path.join(dir, 'package-store');
    const gguf = path.join(dir, 'tiny.gguf');
    await generateModel({ path: gguf, preset: 'tiny', type: 'q8_0', seed: 3 });
    const run = await cli(['package', '--gguf', gguf, '--context-size', '128', '--models-path', modelsPath, 'myorg/tiny:v1']);
    assert.equal(run.code, 0, run.stderr);
    const store = await openStore(modelsPath);
    try {
      assert.equal((await store.findByTag('docker.io/myorg/tiny:v1'))?.id, run.stdout.trim());
    } finally {
      await store.close();
    }
  });

  test('package into a store a server holds fails, saying so and suggesting --push', async () => {
    const modelsPath = path.join(dir, 'held-store');
    const gguf = path.join(dir, 'held.gguf');
    await generateModel({ path: gguf, preset: 'tiny', type: 'q8_0', seed: 4 });
    // This test process stands in for the server: it holds the store's lock while the CLI runs.
    const held = await openStore(modelsPath);
    try {
      const run = await cli(['package', '--gguf', gguf, '--models-path', modelsPath, 'ai/held']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /running model-runner server holds this store/);
      assert.match(run.stderr, /--push/);
      assert.deepEqual(await held.listModels(), []);
    } finally {
      await held.close();
    }
  });

  test('package --push sends the model to a registry, which serves the same manifest the ID names', async () => {
    const registry = await startRegistry('anonymous');
    const client = new RegistryClient({ retries: 1, retryDelayMs: 10 });
    try {
      const gguf = path.join(dir, 'pushed.gguf');
      const license = path.join(dir, 'LICENSE');
      await generateModel({ path: gguf, preset: 'tiny', type: 'q8_0', seed: 5 });
      await fs.writeFile(license, 'MIT\n');
      const target = registry.reference('team/tiny', 'v2');
      const modelsPath = path.join(dir, 'untouched-store');
      const run = await cli(['package', '--gguf', gguf, '--license', license, '--push', '--models-path', modelsPath, target]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Model pushed successfully/);
      const resolved = await client.resolveManifest(parseReference(target));
      assert.equal(resolved.digest, run.stdout.trim());
      assert.equal(resolved.manifest.layers.length, 2);
      // Pushing never touches the local store.
      await assert.rejects(fs.access(modelsPath));
    } finally {
      client.dispose();
      await registry.stop();
    }
  });
});
