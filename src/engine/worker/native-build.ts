/**
 * Which llama.cpp binaries a Worker asks node-llama-cpp for. `make build` may compile llama.cpp for
 * this CPU and, by measurement, record in build/native-engine.json that the local build is to be
 * used (scripts/native-engine/evaluate.ts writes it). getLlama() finds a local build only when given
 * the exact cmake options it was built with, so the file carries them. Anything wrong with the file
 * means the prebuilt binaries, with the reason kept for one log line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** build/native-engine.json at the project root: three levels up from src/engine/worker and dist/engine/worker alike. */
export const NATIVE_BUILD_FILE = fileURLToPath(new URL('../../../build/native-engine.json', import.meta.url));

/** One benchmark figure, local build against prebuilt binaries, in tokens per second. */
export interface NativeBuildMeasurement {
  model: string;
  metric: 'prompt' | 'decode';
  /** Tokens per second: the median of the runs. */
  local: number;
  prebuilt: number;
  /** Each run's figure, in order; run i of each build ran back to back. */
  localRuns?: number[];
  prebuiltRuns?: number[];
}

/** The content of build/native-engine.json. */
export interface NativeBuildRecord {
  decision: 'local' | 'prebuilt';
  /** Why, in one sentence. */
  reason: string;
  /** The cmake options of the local build; getLlama() needs exactly these to find it. */
  cmakeOptions?: Record<string, string>;
  /** The build's cache key (source, patch, options, compiler); a different key means measure again. */
  key?: string;
  measurements?: NativeBuildMeasurement[];
  /** The version of the decision rule (scripts/native-engine/decide.ts) that made it. */
  rule?: number;
  /** ISO time of the decision. */
  decidedAt?: string;
}

/** What the engine does with the record. */
export type NativeBuildChoice =
  | { use: 'local'; cmakeOptions: Record<string, string> }
  | { use: 'prebuilt'; reason: string };

/** Reads the decision; never throws. A missing or malformed file chooses the prebuilt binaries. */
export function readNativeBuildChoice(file: string = NATIVE_BUILD_FILE): NativeBuildChoice {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { use: 'prebuilt', reason: missing ? `no ${file} (make build writes it)` : `cannot read ${file}: ${(err as Error).message}` };
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return { use: 'prebuilt', reason: `${file} is not valid JSON` };
  }
  return choiceOf(record, file);
}

/** Validates the parsed record field by field: a hand-edited or truncated file must not reach getLlama. */
export function choiceOf(record: unknown, file: string): NativeBuildChoice {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { use: 'prebuilt', reason: `${file} does not hold a JSON object` };
  }
  const { decision, reason, cmakeOptions } = record as Record<string, unknown>;
  if (decision === 'prebuilt') {
    return { use: 'prebuilt', reason: typeof reason === 'string' && reason !== '' ? reason : 'make build chose the prebuilt binaries' };
  }
  if (decision !== 'local') return { use: 'prebuilt', reason: `${file} has no "decision" of "local" or "prebuilt"` };
  if (!isStringRecord(cmakeOptions) || Object.keys(cmakeOptions).length === 0) {
    return { use: 'prebuilt', reason: `${file} chooses the local build but lists no cmakeOptions` };
  }
  return { use: 'local', cmakeOptions: { ...cmakeOptions } };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * The choice for a Worker with this GPU setting. The local build is CPU-only (make build measures
 * CPU speed only), so it never stands in for a GPU backend: a GPU asked for by name, or found by
 * 'auto', keeps the prebuilt binaries, which carry the GPU backends. `supportedGpus` is
 * node-llama-cpp's getLlamaGpuTypes('supported'), passed in because the main thread reads this
 * module too and must not load node-llama-cpp.
 */
export async function nativeBuildChoiceFor(
  gpu: string | false,
  supportedGpus: () => Promise<ReadonlyArray<string | false>>,
  file: string = NATIVE_BUILD_FILE,
): Promise<NativeBuildChoice> {
  const choice = readNativeBuildChoice(file);
  if (choice.use !== 'local' || gpu === false) return choice;
  if (gpu !== 'auto') return { use: 'prebuilt', reason: `the ${gpu} backend was asked for and the local build is CPU-only` };
  const gpus = (await supportedGpus()).filter((type) => type !== false);
  if (gpus.length > 0) return { use: 'prebuilt', reason: `a GPU backend is available (${gpus.join(', ')}) and the local build is CPU-only` };
  return choice;
}
