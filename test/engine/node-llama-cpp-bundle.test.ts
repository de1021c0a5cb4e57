/**
 * node-llama-cpp as the engine loads it: one bundled file (scripts/bundle-node-llama-cpp.ts),
 * which must be made from the installed package, load none of the package's own modules, and still
 * find the package's binaries, release file and version where the package lies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'dist', 'vendor', 'node-llama-cpp.js');
const PACKAGE_DIST = path.join(ROOT, 'node_modules', 'node-llama-cpp', 'dist') + path.sep;

/**
 * Runs `code` as an ES module in a fresh node inside the project (where `#node-llama-cpp` resolves),
 * with every module it resolves recorded. A prebuilt binary is tested in a forked process first,
 * which inherits the hook: only the modules of the process started here count.
 */
async function runRecordingModules(code: string): Promise<{ stdout: string; modules: string[] }> {
  const hooks = `data:text/javascript,${encodeURIComponent(
    'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`resolved ${process.pid} ${r.url}\\n`); return r; }',
  )}`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(hooks)});`;
  const script = path.join(ROOT, 'dist', `bundle-check-${process.pid}.mjs`);
  await fs.writeFile(script, code);
  try {
    const child = promisify(execFile)(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, script], { cwd: ROOT, maxBuffer: 16 << 20 });
    const { stdout, stderr } = await child;
    const ownPid = String(child.child.pid);
    const modules = stderr
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([word, pid]) => word === 'resolved' && pid === ownPid)
      .map(([, , url]) => (url!.startsWith('file:') ? fileURLToPath(url!) : url!));
    return { stdout, modules };
  } finally {
    await fs.rm(script, { force: true });
  }
}

describe('node-llama-cpp bundled into one file', () => {
  test('the bundle was made from the node-llama-cpp that is installed', async () => {
    const firstLine = (await fs.readFile(BUNDLE, 'utf8')).split('\n', 1)[0];
    const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')) as { version: string };
    assert.equal(firstLine, `// node-llama-cpp ${version}`, 'make compile bundles the installed version');
  });

  test('starting llama.cpp through #node-llama-cpp loads the bundle and none of the package tree, and finds its binaries and version', async () => {
    const { stdout, modules } = await runRecordingModules(
      [
        "const { getLlama, LlamaLogLevel } = await import('#node-llama-cpp');",
        "const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });",
        'console.log(JSON.stringify({ buildType: llama.buildType, release: llama.llamaCppRelease.release, cpuMathCores: llama.cpuMathCores }));',
        'await llama.dispose();',
      ].join('\n'),
    );
    assert.ok(modules.includes(BUNDLE), `the bundle is what #node-llama-cpp names: ${modules.slice(0, 5).join(', ')}`);
    const fromTree = modules.filter((file) => file.startsWith(PACKAGE_DIST));
    assert.deepEqual(fromTree, [], 'no module of the package tree is loaded');
    const started = JSON.parse(stdout.trim().split('\n').at(-1)!) as { buildType: string; release: string; cpuMathCores: number };
    assert.ok(['localBuild', 'prebuilt'].includes(started.buildType), stdout);
    // The release is read from the package's llama/binariesGithubRelease.json, found beside the package's own files.
    const { release } = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', 'node-llama-cpp', 'llama', 'binariesGithubRelease.json'), 'utf8')) as { release: string };
    assert.equal(started.release, release);
    assert.ok(started.cpuMathCores >= 1);
  });
});
