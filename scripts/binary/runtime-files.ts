/**
 * The files the binary carries for its runtime folder, besides the bundles: node-llama-cpp with the
 * packages it imports (found through package-lock.json, as npm laid them out), the prebuilt backend
 * packages asked for, the peer-credentials addon and, when asked, the local llama.cpp build that
 * `make build` chose. node-llama-cpp stays a tree of files rather than part of a bundle: it finds
 * its backends, its release file and its own version through its file layout, and it tests a
 * backend before loading it by forking its own testBindingBinary.js.
 */
import { existsSync, promises as fs, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** One file of the runtime folder: its path there and where its bytes come from. */
export interface SourceFile {
  path: string;
  source: string;
}

/** Backends by the name `make binary` takes, as the packages node-llama-cpp imports for them. */
export const BACKEND_PACKAGES: Record<string, (platform: string) => string[]> = {
  cpu: (p) => [`@node-llama-cpp/${p}`],
  // The -ext package carries a fallback libggml-cuda.so built for more GPU generations.
  cuda: (p) => [`@node-llama-cpp/${p}-cuda`, `@node-llama-cpp/${p}-cuda-ext`],
  vulkan: (p) => [`@node-llama-cpp/${p}-vulkan`],
};

/** Type declarations, source maps and docs: nothing runs them. */
const SKIPPED_FILE = /\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i;

interface LockPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The lock path a package `name` resolves to from the package at `from`, as node's lookup walks up node_modules. */
function resolveInLock(packages: Record<string, LockPackage>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const index = base.lastIndexOf('/node_modules/');
    base = index < 0 ? '' : base.slice(0, index);
  }
}

/**
 * node-llama-cpp and everything it imports, as lock paths. The backend packages are left to
 * `backends`; optional packages that are not installed (other platforms') are skipped.
 */
export function nodeLlamaCppClosure(root: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const seen = new Set<string>();
  const pending = ['node_modules/node-llama-cpp'];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (seen.has(current) || !existsSync(path.join(root, current))) continue;
    seen.add(current);
    const entry = lock.packages[current] ?? {};
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      if (name.startsWith('@node-llama-cpp/')) continue;
      const resolved = resolveInLock(lock.packages, current, name);
      if (resolved !== undefined) pending.push(resolved);
    }
  }
  return [...seen].sort();
}

/** Every file under `dir` (following the symlinked node_modules), as paths relative to it. */
async function listFiles(dir: string, relative = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(path.join(dir, relative), { withFileTypes: true })) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.name === 'node_modules') continue;
    const stats = await fs.stat(path.join(dir, child));
    if (stats.isDirectory()) found.push(...(await listFiles(dir, child)));
    else if (stats.isFile() && !SKIPPED_FILE.test(entry.name)) found.push(child);
  }
  return found;
}

async function packageFiles(root: string, lockPath: string, keep: (file: string) => boolean = () => true): Promise<SourceFile[]> {
  const dir = realpathSync(path.join(root, lockPath));
  return (await listFiles(dir)).filter(keep).map((file) => ({ path: `${lockPath}/${file}`, source: path.join(dir, file) }));
}

/**
 * node-llama-cpp's own files: its code and package.json, and of llama/ only what loading a
 * backend reads (the release it was built for, grammars). The llama.cpp sources, the git bundle
 * and local builds are for compiling, which the binary never does.
 */
function keepNodeLlamaCppFile(file: string): boolean {
  if (!file.startsWith('llama/')) return !file.startsWith('templates/');
  return file === 'llama/binariesGithubRelease.json' || file === 'llama/llama.cpp.info.json' || file.startsWith('llama/grammars/');
}

export async function nodeLlamaCppFiles(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for (const lockPath of nodeLlamaCppClosure(root)) {
    files.push(...(await packageFiles(root, lockPath, lockPath === 'node_modules/node-llama-cpp' ? keepNodeLlamaCppFile : undefined)));
  }
  return files;
}

/** The backend packages for `names` that are installed, and the names of those that are not. */
export async function backendFiles(root: string, names: string[], platform: string): Promise<{ files: SourceFile[]; included: string[]; missing: string[] }> {
  const files: SourceFile[] = [];
  const included: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const packages = BACKEND_PACKAGES[name]?.(platform);
    if (packages === undefined) throw new Error(`unknown backend "${name}" (known: ${Object.keys(BACKEND_PACKAGES).join(', ')})`);
    if (!existsSync(path.join(root, 'node_modules', packages[0]!))) {
      missing.push(name);
      continue;
    }
    included.push(name);
    for (const pkg of packages) {
      if (existsSync(path.join(root, 'node_modules', pkg))) files.push(...(await packageFiles(root, `node_modules/${pkg}`)));
    }
  }
  return { files, included, missing };
}

/**
 * The local llama.cpp build named by build/native-engine.json and the file itself, so the binary's
 * Workers make the same choice. Built with -march=native, it runs only on CPUs like this one.
 */
export async function localEngineFiles(root: string): Promise<SourceFile[]> {
  const record = path.join(root, 'build', 'native-engine.json');
  const { decision } = JSON.parse(await fs.readFile(record, 'utf8')) as { decision?: string };
  if (decision !== 'local') throw new Error(`${record} chooses the prebuilt binaries: there is no local build to include`);
  const buildsDir = 'node_modules/node-llama-cpp/llama/localBuilds';
  const files: SourceFile[] = [{ path: 'build/native-engine.json', source: record }];
  for (const entry of await fs.readdir(path.join(root, buildsDir), { withFileTypes: true })) {
    const folder = `${buildsDir}/${entry.name}`;
    if (!entry.isDirectory() || !existsSync(path.join(root, folder, 'buildDone.status'))) continue;
    files.push({ path: `${folder}/buildDone.status`, source: path.join(root, folder, 'buildDone.status') });
    files.push(...(await packageFiles(root, `${folder}/Release`)));
  }
  return files;
}
