/**
 * Per-model runtime settings (`_configure`), kept in runtime-settings.json next to Docker's files.
 * Docker's own store ignores unknown files, so the directory stays usable by both.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

export type RuntimeSettings = Record<string, Record<string, unknown>>;

export async function readSettingsFile(file: string): Promise<RuntimeSettings> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('internal', `runtime settings file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  assertSettingsShape(value, `runtime settings file ${file}`);
  return value;
}

export async function writeSettingsFile(file: string, settings: RuntimeSettings): Promise<void> {
  assertSettingsShape(settings, 'runtime settings');
  await writeFileAtomic(file, JSON.stringify(settings, null, 2) + '\n');
}

function assertSettingsShape(value: unknown, what: string): asserts value is RuntimeSettings {
  if (!isObject(value)) throw new AppError('internal', `${what} must be a JSON object keyed by model ID`);
  for (const [key, entry] of Object.entries(value)) {
    if (!isObject(entry)) throw new AppError('internal', `${what}: the settings of ${key} are not a JSON object`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
