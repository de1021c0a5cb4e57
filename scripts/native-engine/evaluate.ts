/**
 * Writes build/native-engine.json, the choice between the local llama.cpp build and the prebuilt
 * binaries that the engine's Workers read (src/engine/worker/native-build.ts). Called by
 * scripts/build-native-engine.sh:
 *   evaluate.ts --key KEY --cmake-option K=V ...  test-run, benchmark, decide, write; prints one line
 *   evaluate.ts --prebuilt REASON                  record that the prebuilt binaries run, and why
 *   evaluate.ts --check KEY                        exit 0 when the file holds a decision for build KEY
 *   evaluate.ts --summary                          print the current decision in one line
 * Every run of the engine happens in a child process (measure.ts): a build whose kernels crash
 * loses the comparison instead of ending this script. Details of each step go to stderr.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import { NATIVE_BUILD_FILE, type NativeBuildMeasurement, type NativeBuildRecord } from '../../src/engine/worker/native-build.js';
import { decide, DECISION_RULE } from './decide.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MEASURE = fileURLToPath(new URL('./measure.ts', import.meta.url));
/** Runs per build and model, alternating: enough for the median and an interval that shows the noise. */
const RUNS = 5;
/** A probe or benchmark run takes seconds; one that hangs is a failure. */
const CHILD_TIMEOUT_MS = 180_000;
const TYPES = ['q8_0', 'f16'] as const;
/** The benchmark models scripts/bench.sh uses (same preset, seed and place), so both share them. */
const benchModel = (type: string) => path.join(ROOT, '.cache/bench-models', `smollm2-135m-${type}.gguf`);
const probeModel = (type: string) => path.join(ROOT, '.cache/native-engine', `tiny-${type}.gguf`);

type Binaries = 'local' | 'prebuilt';
type ChildResult = { ok: true; value: Record<string, unknown> } | { ok: false; why: string };

async function writeRecord(record: NativeBuildRecord): Promise<void> {
  mkdirSync(path.dirname(NATIVE_BUILD_FILE), { recursive: true });
  await writeFileAtomic(NATIVE_BUILD_FILE, `${JSON.stringify(record, null, 2)}\n`);
}

function readRecord(): NativeBuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(NATIVE_BUILD_FILE, 'utf8')) as NativeBuildRecord;
  } catch {
    return undefined;
  }
}

function summary(record: NativeBuildRecord | undefined): string {
  if (!record) return 'no decision recorded; the prebuilt binaries run';
  const which = record.decision === 'local' ? 'the local build (compiled for this CPU) runs' : 'the prebuilt binaries run';
  return `${which}: ${record.reason}`;
}

/** Generates a random-weight model once, with the project's own generator (from source: dist may not exist yet). */
function ensureModel(file: string, preset: string, type: string): void {
  if (existsSync(file)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const args = ['--import', 'tsx', 'src/cli.ts', 'generate-model', '--preset', preset, '--type', type, '--seed', '1', '--out', `${file}.tmp`];
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(`${file}.tmp`, file);
}

/** node-llama-cpp adds NODE_LLAMA_CPP_CMAKE_OPTION_* variables to every getLlama(): a stray one would turn a "prebuilt" run into the local build. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('NODE_LLAMA_CPP_CMAKE_OPTION_')));
}

/** One measure.ts run; its stderr goes to ours (the build log). */
function runChild(mode: 'probe' | 'bench', binaries: Binaries, model: string, cmakeOptions: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MEASURE, mode, binaries, model, JSON.stringify(cmakeOptions)], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', (err) => resolve({ ok: false, why: err.message }));
    child.on('close', (code, signal) => {
      const what = `${mode} of ${path.basename(model)} with the ${binaries} binaries`;
      if (code !== 0) return resolve({ ok: false, why: `the ${what} ${signal ? `died with ${signal}` : `exited with ${code}`}` });
      try {
        resolve({ ok: true, value: JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown> });
      } catch {
        resolve({ ok: false, why: `the ${what} printed no result` });
      }
    });
  });
}

const expectedBuild = (binaries: Binaries) => (binaries === 'local' ? 'localBuild' : 'prebuilt');

/** Runs a child and checks that node-llama-cpp loaded the binaries asked for. */
async function run(mode: 'probe' | 'bench', binaries: Binaries, model: string, cmakeOptions: Record<string, string>): Promise<Record<string, unknown>> {
  const result = await runChild(mode, binaries, model, cmakeOptions);
  if (!result.ok) throw new Error(result.why);
  if (result.value.build !== expectedBuild(binaries)) {
    throw new Error(`asked for the ${binaries} binaries, node-llama-cpp loaded ${String(result.value.build)}`);
  }
  console.error(`native-engine: ${mode} ${binaries} ${path.basename(model)}: ${JSON.stringify(result.value)}`);
  return result.value;
}

/**
 * RUNS runs per figure, the two builds alternating (and which goes first alternating too) so that
 * a slow spell of the machine hits both; every run is kept, for the decision's intervals.
 */
async function benchmark(cmakeOptions: Record<string, string>): Promise<NativeBuildMeasurement[]> {
  const measurements: NativeBuildMeasurement[] = [];
  for (const type of TYPES) {
    const runs = { local: { prompt: [] as number[], decode: [] as number[] }, prebuilt: { prompt: [] as number[], decode: [] as number[] } };
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? (['prebuilt', 'local'] as const) : (['local', 'prebuilt'] as const);
      for (const binaries of order) {
        const value = await run('bench', binaries, benchModel(type), cmakeOptions);
        runs[binaries].prompt.push(round(Number(value.prompt) || 0));
        runs[binaries].decode.push(round(Number(value.decode) || 0));
      }
    }
    for (const metric of ['prompt', 'decode'] as const) {
      const [local, prebuilt] = [runs.local[metric], runs.prebuilt[metric]];
      measurements.push({ model: type, metric, local: median(local), prebuilt: median(prebuilt), localRuns: local, prebuiltRuns: prebuilt });
    }
  }
  return measurements;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

const round = (n: number) => Math.round(n * 10) / 10;

async function evaluate(key: string, cmakeOptions: Record<string, string>): Promise<NativeBuildRecord> {
  const base = { key, rule: DECISION_RULE, cmakeOptions, decidedAt: new Date().toISOString() };
  for (const type of TYPES) {
    ensureModel(probeModel(type), 'tiny', type);
    ensureModel(benchModel(type), 'smollm2-135m', type);
  }
  try {
    // A prompt batch and a few decoded tokens per type: where a miscompiled kernel shows itself.
    for (const type of TYPES) await run('probe', 'local', probeModel(type), cmakeOptions);
  } catch (err) {
    return { ...base, decision: 'prebuilt', reason: `the local build failed its test run: ${(err as Error).message}` };
  }
  let measurements: NativeBuildMeasurement[];
  try {
    measurements = await benchmark(cmakeOptions);
  } catch (err) {
    // No key: a benchmark that failed (a busy machine, a timeout) is retried by the next make build.
    return { ...base, key: undefined, decision: 'prebuilt', reason: `the benchmark failed: ${(err as Error).message}` };
  }
  return { ...base, ...decide(measurements), measurements };
}

/** `--name value` pairs; --cmake-option may repeat. */
function parseArgs(argv: string[]): { flags: Map<string, string>; cmakeOptions: Record<string, string> } {
  const flags = new Map<string, string>();
  const cmakeOptions: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const value = name === '--summary' ? '' : (argv[++i] ?? '');
    if (name === '--cmake-option') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new Error(`--cmake-option wants NAME=VALUE, got ${JSON.stringify(value)}`);
      cmakeOptions[value.slice(0, eq)] = value.slice(eq + 1);
    } else flags.set(name, value);
  }
  return { flags, cmakeOptions };
}

const { flags, cmakeOptions } = parseArgs(process.argv.slice(2));
if (flags.has('--summary')) {
  console.log(summary(readRecord()));
} else if (flags.has('--check')) {
  // A decision stands for the same build under the same rule.
  const record = readRecord();
  process.exitCode = record?.key === flags.get('--check') && record?.rule === DECISION_RULE ? 0 : 1;
} else if (flags.has('--prebuilt')) {
  await writeRecord({ decision: 'prebuilt', reason: flags.get('--prebuilt') || 'make build kept the prebuilt binaries', decidedAt: new Date().toISOString() });
} else if (flags.has('--key') && Object.keys(cmakeOptions).length > 0) {
  const record = await evaluate(flags.get('--key')!, cmakeOptions);
  await writeRecord(record);
  const pairs = record.measurements ? `; local vs prebuilt tok/s: ${record.measurements.map((m) => `${m.model} ${m.metric} ${m.local} vs ${m.prebuilt}`).join(', ')}` : '';
  console.log(`${summary(record)}${pairs}`);
} else {
  console.error('usage: evaluate.ts --key KEY --cmake-option NAME=VALUE... | --prebuilt REASON | --check KEY | --summary');
  process.exitCode = 2;
}
