/**
 * The one-way import rule of the architecture, as data: each rule names the imports it forbids
 * and says why in words a failing test can print. Imports flow from the entry points (main, cli)
 * through http and the translators to the services, and from the services down to the leaves;
 * never back up.
 */
import type { ImportRecord } from './source-imports.js';

/**
 * The layer a file under src belongs to: its top-level directory, or the name of a top-level
 * file. engine/worker is its own layer, since it is the only code that runs inside a Worker.
 */
export function layerOf(file: string): string {
  if (file.startsWith('engine/worker/')) return 'engine/worker';
  const slash = file.indexOf('/');
  return slash < 0 ? file.replace(/\.ts$/, '') : file.slice(0, slash);
}

/** Modules with no dependencies inside src but each other: anything may import them. */
export const LEAVES = new Set(['util', 'errors', 'log', 'config', 'version', 'native']);

/** The one models file registry may read: media-type constants both sides must agree on. */
export const REGISTRY_MAY_IMPORT = 'models/media-types.ts';

const ENGINE = new Set(['engine', 'engine/worker']);
// binary is the single executable's entry: it unpacks its files, then runs cli.
const ENTRY_POINTS = new Set(['main', 'cli', 'binary']);

/** The folder of http/ a file lives in (common, docker, openai, ollama, ...), or undefined outside http/. */
export function httpFolderOf(file: string): string | undefined {
  const match = /^http\/([^/]+)\//.exec(file);
  return match?.[1];
}

/**
 * The one file of http/common that may read the dialect folders: before any router runs (TCP
 * access checks), it picks the error shape of the dialect a path belongs to. Debt until each
 * dialect registers its renderer with common instead.
 */
export const COMMON_MAY_READ_DIALECTS = 'http/common/dialect-error.ts';

export interface Rule {
  /** What the rule says, printed with every import that breaks it. */
  description: string;
  /** True when `record` breaks the rule. */
  breaks(record: ImportRecord): boolean;
}

/** The src layer an import leads to, or undefined for builtins, packages and unresolved paths. */
function targetLayer(record: ImportRecord): string | undefined {
  return record.target.kind === 'src' ? layerOf(record.target.path) : undefined;
}

function targetPackage(record: ImportRecord): string | undefined {
  return record.target.kind === 'package' ? record.target.name : undefined;
}

/** A rule about what one layer may import from other src layers (its own files always). */
function srcRule(from: (layer: string) => boolean, forbids: (target: string, record: ImportRecord) => boolean, description: string): Rule {
  return {
    description,
    breaks(record) {
      const source = layerOf(record.file);
      const target = targetLayer(record);
      return from(source) && target !== undefined && target !== source && forbids(target, record);
    },
  };
}

/** Translators may read engine and models only for their types: values would couple them to services. */
function translatorRule(layer: 'openai' | 'ollama' | 'responses' | 'rerank', valueLayers: string[]): Rule {
  const values = new Set(valueLayers);
  const types = new Set([...valueLayers, 'engine', 'models']);
  return srcRule(
    (l) => l === layer,
    (target, r) => !(r.kind === 'type' ? types : values).has(target),
    `${layer} imports only types from engine and models, and values only from ${valueLayers.join(', ')}`,
  );
}

export const RULES: Rule[] = [
  {
    description: 'a relative import must name a file under src',
    breaks: (r) => r.target.kind === 'unresolved',
  },
  srcRule((l) => LEAVES.has(l), (t) => !LEAVES.has(t), 'util, errors, log, config, version and native are leaves: they import only each other'),
  srcRule((l) => l === 'gguf', (t) => t !== 'util' && t !== 'errors', 'gguf is a leaf module: it imports only util and errors'),
  srcRule(
    (l) => l === 'store',
    (t) => ['registry', 'models', 'engine', 'engine/worker', 'openai', 'ollama', 'http'].includes(t),
    'store (disk only) never imports registry, models, engine, openai, ollama or http',
  ),
  srcRule(
    (l) => l === 'registry',
    (t, r) =>
      ['store', 'models', 'engine', 'engine/worker', 'openai', 'ollama', 'http'].includes(t) &&
      !(r.target.kind === 'src' && r.target.path === REGISTRY_MAY_IMPORT),
    `registry (network only) never imports store, models (but ${REGISTRY_MAY_IMPORT}), engine, openai, ollama or http`,
  ),
  srcRule(
    (l) => l === 'models',
    (t, r) => ['openai', 'ollama', 'http'].includes(t) || (ENGINE.has(t) && r.kind === 'value'),
    'models never imports openai, ollama or http, and only types from engine',
  ),
  srcRule(
    (l) => ENGINE.has(l),
    (t) => ['store', 'registry', 'models', 'openai', 'ollama', 'http'].includes(t),
    'engine receives resolved values: it never imports store, registry, models, openai, ollama or http, not even types',
  ),
  translatorRule('openai', ['util', 'errors']),
  translatorRule('ollama', ['openai', 'util', 'errors']),
  translatorRule('responses', ['openai', 'util', 'errors']),
  translatorRule('rerank', ['util', 'errors']),
  {
    description: 'openai, ollama, responses and rerank are pure translation: they never import express',
    breaks: (r) => ['openai', 'ollama', 'responses', 'rerank'].includes(layerOf(r.file)) && targetPackage(r) === 'express',
  },
  srcRule(
    (l) => l === 'cli',
    (t) => t === 'store',
    'cli never opens the store itself: one-shot commands go through the model service (models/local-models.ts), so they follow the policy the server does',
  ),
  srcRule((l) => l === 'http', (t) => t === 'engine/worker', 'http never imports engine/worker: Worker code runs only inside a Worker'),
  {
    description: `http/common is shared plumbing: it never imports a dialect folder (but ${COMMON_MAY_READ_DIALECTS}), and one dialect folder never imports another`,
    breaks(r) {
      const source = httpFolderOf(r.file);
      const target = r.target.kind === 'src' ? httpFolderOf(r.target.path) : undefined;
      if (source === undefined || target === undefined || source === target || target === 'common') return false;
      return !(source === 'common' && r.file === COMMON_MAY_READ_DIALECTS);
    },
  },
  srcRule((l) => !ENTRY_POINTS.has(l), (t) => ENTRY_POINTS.has(t), 'only the entry points (main.ts, cli.ts, cli/, binary/) import main.ts, cli.ts, cli/ or binary/'),
  {
    // The addon keeps process-global state; loading it on the main thread would share that state
    // with every Worker and let a native abort take the API down. Even the CLI goes through the engine.
    description: 'only engine/worker imports node-llama-cpp at run time; the rest of engine may import its types, nothing else may import it',
    breaks(r) {
      if (targetPackage(r) !== 'node-llama-cpp') return false;
      const source = layerOf(r.file);
      if (source === 'engine/worker') return false;
      return !(source === 'engine' && r.kind === 'type');
    },
  },
  {
    // Two copies of node-llama-cpp in one Worker would double its memory and break instanceof.
    description: 'node-llama-cpp is imported as #node-llama-cpp (its one-file bundle, which starts 3x faster), never from its file tree',
    breaks: (r) => r.kind === 'value' && r.target.kind === 'package' && r.target.name === 'node-llama-cpp' && r.target.bundled !== true,
  },
];

export interface Violation {
  /** `file:line`, the file relative to src. */
  at: string;
  specifier: string;
  rule: string;
}

export function findViolations(records: ImportRecord[], rules: Rule[] = RULES): Violation[] {
  const found: Violation[] = [];
  for (const record of records) {
    for (const rule of rules) {
      if (rule.breaks(record)) found.push({ at: `src/${record.file}:${record.line}`, specifier: record.specifier, rule: rule.description });
    }
  }
  return found;
}
