import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { findViolations, layerOf, RULES, type Violation } from './layer-rules.js';
import { type ImportRecord, parseImports, readSourceImports, resolveTarget } from './source-imports.js';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

/**
 * Imports the tree has today that break a rule, as `file:line specifier`, each with the reason it
 * is tolerated. Empty: the tree follows every rule. An entry here that no longer breaks a rule
 * fails the test, so the list only shrinks.
 */
const KNOWN_VIOLATIONS = new Map<string, string>();

function record(file: string, specifier: string, kind: 'type' | 'value' = 'value'): ImportRecord {
  return { file, line: 1, specifier, kind, target: resolveTarget(SRC, file, specifier) };
}

function brokenBy(file: string, specifier: string, kind: 'type' | 'value' = 'value'): string[] {
  return findViolations([record(file, specifier, kind)]).map((v) => v.rule);
}

/** Parsed once: both tree-wide tests read the same imports. */
let treeImports: Promise<ImportRecord[]> | undefined;
const sourceImports = () => (treeImports ??= readSourceImports(SRC));

const format = (vs: Violation[]) => vs.map((v) => `${v.at} imports ${v.specifier}: ${v.rule}`).join('\n');

describe('the import rule of the architecture', () => {
  test('every import under src follows the one-way rule', async () => {
    const records = await sourceImports();
    // A parser that found nothing would pass vacuously; the composition root certainly imports config.
    assert.ok(records.some((r) => r.file === 'main.ts' && r.target.kind === 'src' && r.target.path === 'config.ts'));
    const violations = findViolations(records).filter((v) => !KNOWN_VIOLATIONS.has(`${v.at} ${v.specifier}`));
    assert.equal(violations.length, 0, `imports that break the rule:\n${format(violations)}`);
  });

  test('every tolerated violation still exists, so a fixed one leaves the list', async () => {
    const present = new Set(findViolations(await sourceImports()).map((v) => `${v.at} ${v.specifier}`));
    const stale = [...KNOWN_VIOLATIONS.keys()].filter((k) => !present.has(k));
    assert.deepEqual(stale, []);
  });

  test('files are sorted into layers by their top-level directory, with engine/worker apart', () => {
    assert.equal(layerOf('main.ts'), 'main');
    assert.equal(layerOf('config.ts'), 'config');
    assert.equal(layerOf('engine/scheduler.ts'), 'engine');
    assert.equal(layerOf('engine/worker/load.ts'), 'engine/worker');
    assert.equal(layerOf('cli/client/args.ts'), 'cli');
  });

  test('the leaves may import each other but nothing above them', () => {
    assert.deepEqual(brokenBy('config.ts', './errors.js'), []);
    assert.deepEqual(brokenBy('config.ts', './log.js'), []);
    assert.equal(brokenBy('util/units.ts', '../store/types.js', 'type').length, 1);
    assert.equal(brokenBy('log.ts', './models/index.js').length, 1);
  });

  test('gguf imports only util and errors', () => {
    assert.deepEqual(brokenBy('gguf/writer.ts', '../util/atomic-file.js'), []);
    assert.equal(brokenBy('gguf/reader.ts', '../log.js', 'type').length, 1);
  });

  test('store and registry never import each other', () => {
    assert.equal(brokenBy('store/model-store.ts', '../registry/types.js', 'type').length, 1);
    assert.equal(brokenBy('registry/client.ts', '../store/types.js', 'type').length, 1);
  });

  test('registry may import the media-type constants of models and no other models file', () => {
    assert.deepEqual(brokenBy('registry/manifest.ts', '../models/media-types.js'), []);
    assert.equal(brokenBy('registry/manifest.ts', '../models/catalog.js', 'type').length, 1);
  });

  test('models may import types from engine but not its values', () => {
    assert.deepEqual(brokenBy('models/catalog.ts', '../engine/types.js', 'type'), []);
    assert.equal(brokenBy('models/catalog.ts', '../engine/scheduler.js').length, 1);
    assert.equal(brokenBy('models/catalog.ts', '../http/app.js', 'type').length, 1);
  });

  test('engine imports nothing from the services above it, not even types', () => {
    assert.equal(brokenBy('engine/scheduler.ts', '../models/index.js', 'type').length, 1);
    assert.equal(brokenBy('engine/worker/load.ts', '../../store/types.js', 'type').length, 1);
    assert.deepEqual(brokenBy('engine/memory-estimate.ts', '../gguf/reader.js'), []);
  });

  test('the translators take only types from engine and models', () => {
    assert.deepEqual(brokenBy('openai/sampling.ts', '../engine/types.js', 'type'), []);
    assert.equal(brokenBy('openai/sampling.ts', '../engine/scheduler.js').length, 1);
    assert.equal(brokenBy('ollama/lists.ts', '../models/catalog.js').length, 1);
    assert.deepEqual(brokenBy('ollama/options.ts', '../openai/validate.js'), []);
    assert.equal(brokenBy('openai/validate.ts', '../ollama/common.js').length, 1);
    assert.equal(brokenBy('openai/validate.ts', 'express', 'type').length, 1);
  });

  test('the CLI opens the store only through the model service', () => {
    assert.equal(brokenBy('cli/package.ts', '../store/index.js').length, 1);
    assert.deepEqual(brokenBy('cli/package.ts', '../models/index.js'), []);
  });

  test('http never reaches into engine/worker, and nothing imports the entry points', () => {
    assert.equal(brokenBy('http/app.ts', '../engine/worker/load.js', 'type').length, 1);
    assert.deepEqual(brokenBy('http/app.ts', '../engine/types.js', 'type'), []);
    assert.equal(brokenBy('http/app.ts', '../main.js').length, 1);
    assert.deepEqual(brokenBy('cli/serve.ts', '../main.js'), []);
  });

  test('node-llama-cpp is loaded only inside engine/worker', () => {
    assert.deepEqual(brokenBy('engine/worker/load.ts', '#node-llama-cpp'), []);
    assert.deepEqual(brokenBy('engine/handle-factory.ts', '#node-llama-cpp', 'type'), []);
    assert.equal(brokenBy('engine/handle-factory.ts', '#node-llama-cpp').length, 1);
    assert.equal(brokenBy('http/app.ts', '#node-llama-cpp', 'type').length, 1);
    assert.equal(brokenBy('cli/run.ts', '#node-llama-cpp').length, 1);
  });

  test('node-llama-cpp is loaded from its bundle, never from its file tree', () => {
    assert.equal(brokenBy('engine/worker/load.ts', 'node-llama-cpp').length, 1);
    assert.deepEqual(brokenBy('engine/worker/load.ts', 'node-llama-cpp', 'type'), []);
  });

  test('a relative import that names no file is reported', () => {
    assert.equal(brokenBy('http/app.ts', './no-such-file.js').length, 1);
  });

  test('every rule has a description to print', () => {
    for (const rule of RULES) assert.ok(rule.description.length > 0);
  });
});

describe('reading the imports of a source file', () => {
  const text = [
    "import type { A } from './a.js';",
    "import { type B, type C } from './b.js';",
    "import { type D, e } from './c.js';",
    "import f, { type G } from './d.js';",
    "import './side-effect.js';",
    "export type { H } from './e.js';",
    "export * from './f.js';",
    "export { i } from './g.js';",
    'type J = typeof import("./h.js");',
    "const k = await import('./i.js');",
    "const l = require('./j.js');",
    "// import('./in-a-comment.js')",
    "const m = `import('./in-a-template.js')`;",
  ].join('\n');
  const parsed = parseImports(SRC, 'http/example.ts', text);
  const kinds = Object.fromEntries(parsed.map((r) => [r.specifier, r.kind]));

  test('type-only imports and re-exports are told from value ones the way the compiler erases them', () => {
    assert.deepEqual(kinds, {
      './a.js': 'type',
      './b.js': 'type',
      './c.js': 'value',
      './d.js': 'value',
      './side-effect.js': 'value',
      './e.js': 'type',
      './f.js': 'value',
      './g.js': 'value',
      './h.js': 'type',
      './i.js': 'value',
      './j.js': 'value',
    });
  });

  test('text that only looks like an import is not one', () => {
    assert.ok(!parsed.some((r) => r.specifier.includes('in-a-')));
  });

  test('each import carries the line it is on', () => {
    assert.equal(parsed.find((r) => r.specifier === './i.js')?.line, 10);
  });

  test('specifiers resolve to src files, builtins or package names', () => {
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', '../errors.js'), { kind: 'src', path: 'errors.ts' });
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', '../models/index.js'), { kind: 'src', path: 'models/index.ts' });
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', 'node:fs'), { kind: 'builtin' });
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', 'path'), { kind: 'builtin' });
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', '@types/node/fs'), { kind: 'package', name: '@types/node' });
    assert.deepEqual(resolveTarget(SRC, 'http/app.ts', 'node-llama-cpp/dist/x.js'), { kind: 'package', name: 'node-llama-cpp' });
  });
});
