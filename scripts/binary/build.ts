/**
 * `make binary`: dist/model-runner, one executable that runs where neither Node.js nor
 * node_modules exist. Node's single-executable support: esbuild bundles the CLI into the one
 * CommonJS script the binary runs (src/binary/main.ts first), `node --experimental-sea-config`
 * writes the blob with that script and the manifest of the runtime files as its asset, and
 * postject injects it into a copy of this node. The runtime files that must exist on disk
 * (node-llama-cpp and its backends, our addon, the engine's Worker and child scripts as ES-module
 * bundles) are then appended as the payload (src/binary/payload.ts says why not as assets).
 * Nothing is downloaded.
 *
 * Environment:
 *   BINARY_BACKENDS      backends to carry: 'cpu', 'cuda', 'vulkan', space- or comma-separated;
 *                        'all' takes each one whose package is installed. Defaults to all.
 *   BINARY_LOCAL_ENGINE  '1' also carries the local llama.cpp build `make build` chose (only for
 *                        machines with this CPU: it is built with -march=native). Defaults to 0.
 *   BINARY_OUT           the binary's path. Defaults to dist/model-runner.
 *   BINARY_WORK          folder for the bundles, manifest and blob. Defaults to .cache/binary.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { MANIFEST_ASSET } from '../../src/binary/asset-keys.js';
import { sha256File } from '../../src/util/digest.js';
import { commonJsShims, esmShims, projectUrlPlugin, withoutOptionalPackages } from './project-url.js';
import { BACKEND_PACKAGES, backendFiles, localEngineFiles, nodeLlamaCppFiles, type SourceFile } from './runtime-files.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const UNIFIED_KV_ADDON = path.join(ROOT, 'build', 'Release', 'llama_context_params.node');
const SRC = path.join(ROOT, 'src');
const WORK = path.resolve(ROOT, process.env.BINARY_WORK ?? path.join('.cache', 'binary'));
/** The fuse node's single-executable support looks for; fixed by Node. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The engine's entries that run from files: one Worker script and two child-process scripts. */
const ENGINE_ENTRIES = ['engine/worker/main', 'engine/worker/admission-child', 'engine/worker/engine-child'];
/** Never bundled: node-llama-cpp is unpacked as files (scripts/binary/runtime-files.ts says why). */
const EXTERNAL = ['node-llama-cpp', '@node-llama-cpp/*'];

/**
 * The source imports node-llama-cpp as `#node-llama-cpp`, its one-file bundle beside dist/ (see
 * scripts/bundle-node-llama-cpp.ts). That bundle finds node-llama-cpp's files relative to itself,
 * which the runtime folder's layout does not keep, so the binary imports the unpacked tree instead.
 */
const nodeLlamaCppFromTree: Plugin = {
  name: 'node-llama-cpp-from-tree',
  setup(bundle) {
    bundle.onResolve({ filter: /^#node-llama-cpp$/ }, () => ({ path: 'node-llama-cpp', external: true }));
  },
};
/** Packages the bundles ask for inside try/catch and run without (debug's colour detection). */
const OPTIONAL_PACKAGES = ['supports-color'];

const run = promisify(execFile);

function backendNames(): string[] {
  const value = (process.env.BINARY_BACKENDS ?? 'all').trim();
  return value === 'all' || value === '' ? Object.keys(BACKEND_PACKAGES) : value.split(/[\s,]+/);
}

/** The one CommonJS script the binary runs. */
async function bundleMain(): Promise<string> {
  const outfile = path.join(WORK, 'main.cjs');
  await build({
    entryPoints: [path.join(SRC, 'binary', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    plugins: [nodeLlamaCppFromTree, projectUrlPlugin(SRC), withoutOptionalPackages(OPTIONAL_PACKAGES)],
    banner: { js: commonJsShims() },
    outfile,
    logLevel: 'warning',
  });
  // The main script's require() knows only built-in modules: a package left outside the bundle would fail at run time.
  const text = await fs.readFile(outfile, 'utf8');
  const outside = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!).filter((name) => !name.startsWith('node:') && !builtinModules.includes(name));
  if (outside.length > 0) throw new Error(`the main bundle requires packages it does not contain: ${[...new Set(outside)].join(', ')}`);
  return outfile;
}

/** The engine's entries as ES modules at dist/engine/worker/*.js of the runtime folder. */
async function bundleEngine(): Promise<SourceFile[]> {
  const outdir = path.join(WORK, 'runtime', 'dist');
  await fs.rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: ENGINE_ENTRIES.map((entry) => path.join(SRC, `${entry}.ts`)),
    outbase: SRC,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    plugins: [nodeLlamaCppFromTree, projectUrlPlugin(SRC), withoutOptionalPackages(OPTIONAL_PACKAGES)],
    banner: { js: esmShims('engine/worker/entry.js') },
    logLevel: 'warning',
  });
  return ENGINE_ENTRIES.map((entry) => ({ path: `dist/${entry}.js`, source: path.join(outdir, `${entry}.js`) }));
}

/** The runtime folder's package.json: the version the CLI prints, and ES modules for dist/. */
async function projectPackageJson(): Promise<SourceFile> {
  const { name, version } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const source = path.join(WORK, 'runtime', 'package.json');
  await fs.mkdir(path.dirname(source), { recursive: true });
  await fs.writeFile(source, `${JSON.stringify({ name, version, private: true, type: 'module' }, null, 2)}\n`);
  return { path: 'package.json', source };
}

async function hashFile(file: string): Promise<{ sha256: string; size: number; executable: boolean }> {
  const { digest, size } = await sha256File(file);
  const stats = await fs.stat(file);
  return { sha256: digest.slice('sha256:'.length), size, executable: (stats.mode & 0o111) !== 0 };
}

/** Appends the files' bytes, in manifest order, to the injected binary. */
async function appendPayload(binary: string, files: SourceFile[]): Promise<void> {
  const out = await fs.open(binary, 'a');
  try {
    for (const file of files) {
      for await (const chunk of createReadStream(file.source, { highWaterMark: 1 << 20 })) await out.write(chunk as Buffer);
    }
  } finally {
    await out.close();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  await fs.mkdir(WORK, { recursive: true });
  const [mainScript, engine, packageJson, llamaFiles] = await Promise.all([bundleMain(), bundleEngine(), projectPackageJson(), nodeLlamaCppFiles(ROOT)]);
  const backends = await backendFiles(ROOT, backendNames(), `${process.platform}-${process.arch}`);
  if (!backends.included.includes('cpu')) throw new Error(`the CPU backend package @node-llama-cpp/${process.platform}-${process.arch} is not installed`);
  const files: SourceFile[] = [
    packageJson,
    ...engine,
    { path: 'build/Release/peer_credentials.node', source: path.join(ROOT, 'build', 'Release', 'peer_credentials.node') },
    // The unified-KV library is optional (make build never fails on it); the binary carries it when built.
    ...(existsSync(UNIFIED_KV_ADDON) ? [{ path: 'build/Release/llama_context_params.node', source: UNIFIED_KV_ADDON }] : []),
    ...llamaFiles,
    ...backends.files,
    ...(process.env.BINARY_LOCAL_ENGINE === '1' ? await localEngineFiles(ROOT) : []),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));

  const entries = [];
  for (const file of files) entries.push({ path: file.path, ...(await hashFile(file.source)) });
  const manifestFile = path.join(WORK, MANIFEST_ASSET);
  await fs.writeFile(manifestFile, JSON.stringify({ files: entries }));
  const assets: Record<string, string> = { [MANIFEST_ASSET]: manifestFile };

  const blob = path.join(WORK, 'sea-prep.blob');
  const config = path.join(WORK, 'sea-config.json');
  await fs.writeFile(config, JSON.stringify({ main: mainScript, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets }));
  await run(process.execPath, ['--experimental-sea-config', config], { maxBuffer: 16 << 20 });

  const out = path.resolve(ROOT, process.env.BINARY_OUT ?? path.join('dist', 'model-runner'));
  const temp = `${out}.${process.pid}.tmp`;
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.copyFile(process.execPath, temp);
  await fs.chmod(temp, 0o755);
  try {
    await run(path.join(ROOT, 'node_modules', '.bin', 'postject'), [temp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { maxBuffer: 16 << 20 });
    await appendPayload(temp, files);
    await fs.rename(temp, out);
  } finally {
    await fs.rm(temp, { force: true });
  }
  const assetBytes = entries.reduce((sum, e) => sum + e.size, 0);
  const size = (await fs.stat(out)).size;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(
    `${out.startsWith(`${ROOT}${path.sep}`) ? path.relative(ROOT, out) : out}: ${mb(size)} (node ${mb((await fs.stat(process.execPath)).size)}, ${entries.length} runtime files ${mb(assetBytes)}); ` +
      `backends: ${backends.included.join(', ')}${backends.missing.length > 0 ? ` (not installed: ${backends.missing.join(', ')})` : ''}` +
      `${process.env.BINARY_LOCAL_ENGINE === '1' ? ', with the local llama.cpp build' : ''}; built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(`make binary: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
