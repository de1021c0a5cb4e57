/** The `_configure` body (Docker's ConfigureRequest) -> a RuntimeSettings patch, and back for GET. */
import type { ModelMode, RuntimeSettings } from '../../engine/types.js';
import { AppError } from '../../errors.js';
import { checkRuntimeInteger, type BoundedSetting } from '../../util/runtime-bounds.js';
import { parseDurationMs } from '../../util/units.js';
import { parseRuntimeFlags, splitRawFlags, toRuntimeFlags } from './runtime-flags.js';

export interface ConfigureRequest {
  model: string;
  mode: ModelMode;
  patch: RuntimeSettings;
}

function bad(message: string): AppError {
  return new AppError('bad_request', message);
}

/** A numeric field, held to the same bounds as the `serve` flags and the `configure` command. */
function boundedInteger(body: Record<string, unknown>, field: string, setting: BoundedSetting): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw bad(`${field} must be a number, got ${JSON.stringify(value)}`);
  return checkRuntimeInteger(setting, value, field);
}

function parseFlags(body: Record<string, unknown>): string[] {
  const flags: string[] = [];
  const list = body['runtime-flags'];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || list.some((f) => typeof f !== 'string')) throw bad('runtime-flags must be an array of strings');
    flags.push(...(list as string[]));
  }
  const raw = body['raw-runtime-flags'];
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'string') throw bad('raw-runtime-flags must be a string');
    flags.push(...splitRawFlags(raw));
  }
  return flags;
}

function parseKeepAlive(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw bad('keep_alive must be a duration string or a number of seconds');
  parseDurationMs(value, 'keep_alive');
  return String(value);
}

export function parseConfigureRequest(body: unknown): ConfigureRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('invalid request: the body must be a JSON object');
  const object = body as Record<string, unknown>;
  const model = object.model;
  if (typeof model !== 'string' || model.trim() === '') throw bad('model is required');
  const mode = object.mode ?? 'completion';
  if (mode !== 'completion' && mode !== 'embedding' && mode !== 'reranking') {
    throw bad(`mode must be "completion", "embedding" or "reranking", got ${JSON.stringify(mode)}`);
  }

  // Explicit fields win over the same setting given as a flag.
  const patch: RuntimeSettings = parseRuntimeFlags(parseFlags(object));
  const contextSize = boundedInteger(object, 'context-size', 'contextSize');
  if (contextSize !== undefined) patch.contextSize = contextSize;
  const parallel = boundedInteger(object, 'parallel', 'parallel');
  if (parallel !== undefined) patch.parallel = parallel;
  const keepAlive = parseKeepAlive(object.keep_alive);
  if (keepAlive !== undefined) patch.keepAlive = keepAlive;
  return { model: model.trim(), mode, patch };
}

/** Docker's `_configure` listing entry: a Go struct without json tags, hence the capitalised keys. */
export interface ConfigureEntry {
  Backend: string;
  Model: string;
  ModelID: string;
  Mode: ModelMode;
  Config: Record<string, unknown>;
}

export function toConfigureEntry(backend: string, model: string, id: string, mode: ModelMode, settings: RuntimeSettings): ConfigureEntry {
  const config: Record<string, unknown> = {};
  if (settings.contextSize !== undefined) config['context-size'] = settings.contextSize;
  const flags = toRuntimeFlags(settings);
  if (flags.length > 0) config['runtime-flags'] = flags;
  if (settings.keepAlive !== undefined) config.keep_alive = settings.keepAlive;
  if (settings.parallel !== undefined) config.parallel = settings.parallel;
  if (settings.threads !== undefined) config.threads = settings.threads;
  if (settings.batchSize !== undefined) config['batch-size'] = settings.batchSize;
  if (settings.flashAttention !== undefined) config['flash-attn'] = settings.flashAttention;
  return { Backend: backend, Model: model, ModelID: id, Mode: mode, Config: config };
}
