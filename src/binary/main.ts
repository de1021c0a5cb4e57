/**
 * Entry of the single binary (`make binary` -> dist/model-runner), run by Node's single-executable
 * support as one CommonJS script. It unpacks what cannot run from inside the binary (node-llama-cpp
 * with its prebuilt backends, the peer-credentials addon, the engine's Worker and child scripts),
 * carried in a payload at the binary's end, to the user's cache, then runs the CLI.
 *
 * The binary is also its own `node` for the processes the server starts: child_process.fork()
 * runs process.execPath, which here is the binary, with the script's path as the first argument
 * (our admission and isolation children, node-llama-cpp's binding test). A first argument that is
 * a script inside a runtime folder under the cache is therefore run as that script; nothing else
 * can be run that way. Any build's folder, not only this one's: a server whose binary was replaced
 * on disk while it ran forks the new binary with its own (older) folder's scripts.
 */
import { getAsset } from 'node:sea';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseRuntimeManifest, runtimeId } from './manifest.js';
import { isInside, runtimeDirFor } from './runtime-dir.js';
import { ensureRuntime } from './unpack.js';
import { describeUnpack } from './unpack-report.js';
import { MANIFEST_ASSET, RUNTIME_DIR_KEY } from './asset-keys.js';
import { openPayload } from './payload.js';

/** Finds the runtime folder and, unless this is a forked script, makes sure it is complete; returns what to run. */
async function prepare(): Promise<() => Promise<unknown>> {
  const manifestText = getAsset(MANIFEST_ASSET, 'utf8');
  const dir = runtimeDirFor(runtimeId(manifestText));
  (globalThis as Record<symbol, unknown>)[RUNTIME_DIR_KEY] = dir;
  const script = process.argv[2];
  if (script !== undefined && isInside(path.dirname(dir), script)) {
    // A forked script: its parent already checked the folder. Drop the binary's second argv
    // entry so that the script sees `node script args` as it would under node.
    process.argv.splice(1, 1);
    return () => import(pathToFileURL(script).href);
  }
  const started = performance.now();
  const manifest = parseRuntimeManifest(manifestText);
  const result = await ensureRuntime({ dir, manifest, payload: openPayload(process.execPath, manifest) });
  const report = describeUnpack(dir, result, performance.now() - started);
  if (report !== undefined) process.stderr.write(`${report}\n`);
  return () => import('../cli.js');
}

const fail = (message: string) => {
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
};

prepare().then(
  // What the script or the CLI throws while loading is theirs, printed as node would.
  (run) => run().catch((err: unknown) => fail((err as Error)?.stack ?? String(err))),
  (err: unknown) => fail(`model-runner: cannot prepare its runtime files: ${(err as Error)?.message ?? String(err)}`),
);
