/** How the binary's assets are named; scripts/binary/build.ts writes them, main.ts reads them. */

/** The asset holding the runtime manifest (manifest.ts). */
export const MANIFEST_ASSET = 'runtime-manifest.json';
/** The global the CommonJS bundle's path shims (scripts/binary/project-url.ts) read the runtime folder from. */
export const RUNTIME_DIR_KEY = Symbol.for('model-runner.runtime-dir');
