/** The fields every OpenAI inference request shares: model, n, streaming and keep_alive. */
import { AppError } from '../errors.js';
import { parseDurationMs } from '../util/units.js';
import { badParam, type JsonObject, optionalBoolean, optionalNumber, optionalObject } from './validate.js';

export interface CommonFields {
  /** The model name exactly as the client sent it; responses echo it back. */
  model: string;
  stream: boolean;
  /** stream_options.include_usage: send a final chunk carrying usage. */
  includeUsage: boolean;
  /** keep_alive as sent (validated), for the scheduler. */
  keepAlive?: string | number;
  /** Choices to generate for the same prompt, one after another (`n`). */
  choices: number;
}

/** Most choices one request may ask for: each is a full generation on the model's time. */
export const MAX_CHOICES = 8;

export function parseModel(body: JsonObject): string {
  const model = body.model;
  if (model === undefined || model === null || model === '') {
    throw new AppError('bad_request', 'model is required', { data: { param: 'model' } });
  }
  if (typeof model !== 'string' || model.trim() === '') throw badParam('model', 'model must be a non-empty string');
  return model.trim();
}

/** Validates keep_alive without interpreting it: the scheduler owns what a duration means. */
export function parseKeepAlive(body: JsonObject): string | number | undefined {
  const value = body.keep_alive;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw badParam('keep_alive', 'keep_alive must be a duration string such as "5m" or a number of seconds');
  }
  try {
    parseDurationMs(value, 'keep_alive');
  } catch (err) {
    throw badParam('keep_alive', (err as Error).message);
  }
  return value;
}

/** `n`: how many choices, 1 to MAX_CHOICES. */
export function parseChoiceCount(body: JsonObject): number {
  const n = optionalNumber(body, 'n', { integer: true, min: 1 });
  if (n !== undefined && n > MAX_CHOICES) throw badParam('n', `n must be at most ${MAX_CHOICES}, got ${n}`);
  return n ?? 1;
}

export function parseCommonFields(body: JsonObject): CommonFields {
  const model = parseModel(body);
  const choices = parseChoiceCount(body);
  const stream = optionalBoolean(body, 'stream') ?? false;
  const options = optionalObject(body, 'stream_options');
  const includeUsage = options ? (optionalBoolean(options, 'include_usage', 'stream_options.include_usage') ?? false) : false;
  return { model, stream, includeUsage, keepAlive: parseKeepAlive(body), choices };
}
