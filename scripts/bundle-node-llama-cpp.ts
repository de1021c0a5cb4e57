/**
 * Bundles node-llama-cpp's JavaScript into one file, dist/vendor/node-llama-cpp.js, which the code
 * imports as `#node-llama-cpp` (package.json "imports"). Every engine Worker, admission check and
 * engine child starts node-llama-cpp afresh, and as a tree of ~530 modules its import alone costs
 * 0.6-0.9 s of CPU on a Zen 4 core, almost all of it module resolution and file reads; the bundle
 * imports in about a third of that.
 *
 * node-llama-cpp finds its binaries, release file and version from where its own files lie
 * (import.meta.url). Each bundled module therefore keeps its original location: its import.meta.url
 * becomes its file in node_modules, written relative to the bundle so that a project moved as a
 * whole keeps working.
 *
 * Usage: node --import tsx scripts/bundle-node-llama-cpp.ts [OUT]  (default dist/vendor/node-llama-cpp.js)
 */
import { build, type Plugin } from 'esbuild';
import { promises as fs } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.resolve(ROOT, process.argv[2] ?? 'dist/vendor/node-llama-cpp.js');
const PACKAGE = path.join(ROOT, 'node_modules', 'node-llama-cpp');
const ENTRY = path.join(PACKAGE, 'dist', 'index.js');
const { version } = JSON.parse(await fs.readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as { version: string };

/**
 * Packages left to Node's resolution at run time: the prebuilt backends, reflink, and every package
 * the project depends on itself, so that a module both import is one instance (the template budget
 * patches @huggingface/jinja's interpreter, which node-llama-cpp renders chat templates with).
 */
const OWN_DEPENDENCIES = Object.keys((JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
const EXTERNAL = ['@node-llama-cpp/*', '@reflink/*', ...OWN_DEPENDENCIES.filter((name) => name !== 'node-llama-cpp')];

/**
 * The one change to node-llama-cpp's behaviour: its model load parses the GGUF header in
 * JavaScript (0.14-0.35 s for a 49k-token vocabulary on a Zen 4 core, more than half of loadModel),
 * and an engine Worker waiting for its next model may already have read that header
 * (src/engine/worker/gguf-read-ahead.ts). readGgufFileInfo asks the hook that module installs
 * first; without the hook, or for any other file, it reads the file as before.
 */
const READ_GGUF_FILE_INFO = path.join('node-llama-cpp', 'dist', 'gguf', 'readGgufFileInfo.js');
const READ_AHEAD_HOOK = `
export async function readGgufFileInfo(pathOrUri, options) {
    const readAhead = await globalThis[Symbol.for("model-runner.gguf-read-ahead")]?.(pathOrUri, options);
    return readAhead ?? readGgufFileInfoFromSource(pathOrUri, options);
}
readGgufFileInfo.consultsReadAhead = true;
`;

function withReadAheadHook(text: string): string {
  const declaration = 'export async function readGgufFileInfo(';
  if (!text.includes(declaration)) throw new Error(`${READ_GGUF_FILE_INFO} no longer declares readGgufFileInfo as this script expects`);
  return text.replace(declaration, 'async function readGgufFileInfoFromSource(') + READ_AHEAD_HOOK;
}

/** Each module's import.meta.url becomes the URL of its own file, relative to the bundle; readGgufFileInfo gains its hook. */
function packageFiles(outDir: string): Plugin {
  return {
    name: 'package-files',
    setup(bundle) {
      bundle.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, async (args) => {
        let text = await fs.readFile(args.path, 'utf8');
        const readsGguf = args.path.endsWith(READ_GGUF_FILE_INFO);
        if (!text.includes('import.meta.url') && !readsGguf) return undefined;
        if (readsGguf) text = withReadAheadHook(text);
        const relative = path.relative(outDir, args.path).split(path.sep).join('/');
        return {
          contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`),
          loader: 'js',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

await build({
  entryPoints: [ENTRY],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  plugins: [packageFiles(path.dirname(OUT))],
  // The CommonJS dependencies inside call require(); an ES module has none of its own.
  // The first line names the version bundled, so that a stale bundle can be told from a fresh one.
  banner: { js: `// node-llama-cpp ${version}\nimport { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);` },
  logLevel: 'error',
  legalComments: 'inline',
});
