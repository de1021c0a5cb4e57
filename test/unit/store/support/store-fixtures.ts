/**
 * Shared set-up of the store tests: temporary roots that are removed afterwards, and small
 * models (random layer bytes, a config, an OCI manifest) written through the store itself.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelStore } from '../../../../src/store/index.js';

/** A fresh directory under the OS temp dir, removed when the test `t` ends. */
export async function makeTempRoot(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'store-test-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestModel {
  id: string;
  manifest: Buffer;
  layerDigests: string[];
  configDigest: string;
}

export function manifestFor(layers: Array<{ digest: string; size: number }>, config: { digest: string; size: number }): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.docker.ai.model.config.v0.1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.ai.gguf.v3', ...l })),
    }),
  );
}

/** Writes the layers and a unique config as blobs, then the model under `tags`. */
export async function addModel(store: ModelStore, tags: string[], layers: Buffer[] = [randomBytes(256)]): Promise<TestModel> {
  const layerRefs = [];
  for (const bytes of layers) layerRefs.push({ digest: await store.writeBlob(bytes), size: bytes.length });
  const config = Buffer.from(JSON.stringify({ config: { format: 'gguf' }, nonce: randomBytes(8).toString('hex') }));
  const configDigest = await store.writeBlob(config);
  const manifest = manifestFor(layerRefs, { digest: configDigest, size: config.length });
  const id = await store.writeModel(manifest, tags);
  return { id, manifest, layerDigests: layerRefs.map((l) => l.digest), configDigest };
}

const SUPPORT_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Starts `support/<script>` in a real child node process (TypeScript through tsx). */
export function spawnSupportScript(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(SUPPORT_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves with the first stdout line of `child` that starts with `prefix`; rejects if the child exits first. */
export function waitForLine(child: ChildProcess, prefix: string, occurrence = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let seen = 0;
    const onData = (data: Buffer) => {
      buffered += data.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(prefix) && ++seen === occurrence) {
          cleanup();
          resolve(line);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited with code ${code} before printing "${prefix}"`));
    };
    const cleanup = () => {
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
}

/** SIGKILLs the child and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
