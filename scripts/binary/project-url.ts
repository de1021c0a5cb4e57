/**
 * An esbuild plugin that keeps each source file's idea of where it lives after bundling. The code
 * finds its neighbours through import.meta.url (the addon at ../build/Release from src/native.ts,
 * build/native-engine.json from src/engine/worker, the Worker and child scripts beside
 * src/engine), and in a bundle every file would share the bundle's one URL. So each
 * `import.meta.url` in src/ becomes the URL its compiled file would have under the runtime
 * folder's dist/ (the layout `tsc` gives), and the bundles lay out the runtime folder to match.
 *
 * In the CommonJS main script there is no import.meta at all: the runtime folder comes from the
 * global that src/binary/main.ts sets before it loads the CLI, and import.meta.resolve becomes a
 * require.resolve from that folder's dist/.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { RUNTIME_DIR_KEY } from '../../src/binary/asset-keys.js';

export const URL_SHIM = '__modelRunnerUrl';
export const RESOLVE_SHIM = '__modelRunnerResolve';

/** Shims for the CommonJS main script (src/binary/main.ts sets the runtime folder first). */
export function commonJsShims(): string {
  return [
    `var __modelRunnerDist = () => { const dir = globalThis[Symbol.for(${JSON.stringify(RUNTIME_DIR_KEY.description)})]; if (typeof dir !== 'string') throw new Error('model-runner: the runtime folder is not known yet'); return require('node:path').join(dir, 'dist'); };`,
    `var ${URL_SHIM} = (file) => require('node:url').pathToFileURL(require('node:path').join(__modelRunnerDist(), file)).href;`,
    `var ${RESOLVE_SHIM} = (specifier) => require('node:url').pathToFileURL(require('node:module').createRequire(require('node:path').join(__modelRunnerDist(), 'index.js')).resolve(specifier)).href;`,
  ].join('\n');
}

/**
 * Shims for an ES-module bundle written to dist/<outFile> in the runtime folder: dist/ is found
 * from the bundle's own URL. esbuild's CommonJS dependencies inside it also get a `require`.
 */
export function esmShims(outFile: string): string {
  const up = '../'.repeat(outFile.split('/').length - 1) || './';
  return [
    `import { createRequire as __modelRunnerCreateRequire } from 'node:module';`,
    `const require = __modelRunnerCreateRequire(import.meta.url);`,
    `const __modelRunnerDistUrl = new URL(${JSON.stringify(up)}, import.meta.url);`,
    `const ${URL_SHIM} = (file) => new URL(file, __modelRunnerDistUrl).href;`,
    `const ${RESOLVE_SHIM} = (specifier) => import.meta.resolve(specifier);`,
  ].join('\n');
}

/** The plugin; `srcDir` is the project's src/. */
export function projectUrlPlugin(srcDir: string): Plugin {
  return {
    name: 'project-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const relative = path.relative(srcDir, args.path);
        if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
        const compiled = relative.split(path.sep).join('/').replace(/\.ts$/, '.js');
        const source = await fs.readFile(args.path, 'utf8');
        const contents = source
          .replaceAll('import.meta.url', `${URL_SHIM}(${JSON.stringify(compiled)})`)
          .replaceAll('import.meta.resolve(', `${RESOLVE_SHIM}(`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * debug (under express) asks for supports-color inside try/catch and colours nothing without it,
 * as under node where it is not installed. In the binary that require would also print Node's
 * warning that the main script loads only built-in modules, so the bundle answers it with nothing.
 */
export function withoutOptionalPackages(names: string[]): Plugin {
  const absent = new Set(names);
  return {
    name: 'without-optional-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => (absent.has(args.path) ? { path: args.path, namespace: 'absent-package' } : undefined));
      build.onLoad({ filter: /.*/, namespace: 'absent-package' }, () => ({ contents: 'module.exports = undefined;', loader: 'js' }));
    },
  };
}
