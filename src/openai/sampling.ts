/** OpenAI (and llama-server) sampling parameters -> the engine's SamplingOptions. */
import type { SamplingOptions } from '../engine/types.js';
import {
  badParam,
  checkNumber,
  isJsonObject,
  type JsonObject,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
} from './validate.js';

/** llama-server accepts up to 16 stop strings (OpenAI 4); we follow the more generous peer. */
export const MAX_STOP_SEQUENCES = 16;
/** OpenAI's documented logit_bias range. */
export const LOGIT_BIAS_LIMIT = 100;

/** max_completion_tokens is the newer name and wins; -1 is llama.cpp's "no limit". */
function parseMaxTokens(body: JsonObject): number | undefined {
  let result: number | undefined;
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    const value = optionalNumber(body, field, { integer: true, min: -1 });
    if (value === undefined) continue;
    if (value === 0) throw badParam(field, `${field} must be at least 1 (or -1 for no limit), got 0`);
    result = value === -1 ? undefined : value;
  }
  return result;
}

function parseStop(body: JsonObject): string[] | undefined {
  const value = body.stop;
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
    throw badParam('stop', 'stop must be a string or an array of strings');
  }
  if (list.length > MAX_STOP_SEQUENCES) {
    throw badParam('stop', `stop accepts at most ${MAX_STOP_SEQUENCES} sequences, got ${list.length}`);
  }
  const stops = (list as string[]).filter((s) => s.length > 0);
  return stops.length > 0 ? stops : undefined;
}

function parseLogitBias(body: JsonObject): Record<number, number> | undefined {
  const value = optionalObject(body, 'logit_bias');
  if (value === undefined) return undefined;
  const bias: Record<number, number> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(Number(key))) {
      throw badParam('logit_bias', `logit_bias keys must be token ids (non-negative integers), got ${JSON.stringify(key)}`);
    }
    bias[Number(key)] = checkNumber(raw, 'logit_bias', { min: -LOGIT_BIAS_LIMIT, max: LOGIT_BIAS_LIMIT });
  }
  return Object.keys(bias).length > 0 ? bias : undefined;
}

/** response_format: text (no constraint), json_object (any JSON, or llama-server's inline `schema`), json_schema. */
function parseResponseFormat(body: JsonObject): Pick<SamplingOptions, 'json' | 'jsonSchema'> {
  const format = optionalObject(body, 'response_format');
  if (format === undefined) return {};
  const type = optionalString(format, 'type', 'response_format.type');
  switch (type) {
    case undefined:
    case 'text':
      return {};
    case 'json_object': {
      const schema = optionalObject(format, 'schema', 'response_format.schema');
      return schema ? { jsonSchema: schema } : { json: true };
    }
    case 'json_schema': {
      const spec = format.json_schema;
      if (!isJsonObject(spec)) {
        throw badParam('response_format.json_schema', 'response_format.json_schema must be an object with a "schema" field');
      }
      optionalString(spec, 'name', 'response_format.json_schema.name');
      optionalBoolean(spec, 'strict', 'response_format.json_schema.strict');
      const schema = optionalObject(spec, 'schema', 'response_format.json_schema.schema');
      // OpenAI allows omitting the schema; then any JSON object satisfies it.
      return schema ? { jsonSchema: schema } : { json: true };
    }
    default:
      throw badParam('response_format.type', `response_format.type must be "text", "json_object" or "json_schema", got ${JSON.stringify(type)}`);
  }
}

/** Reads every sampling field; unset fields stay undefined so the engine's defaults apply. */
export function parseSampling(body: JsonObject): SamplingOptions {
  const seed = optionalNumber(body, 'seed', { integer: true });
  const sampling: SamplingOptions = {
    maxTokens: parseMaxTokens(body),
    temperature: optionalNumber(body, 'temperature', { min: 0, max: 2 }),
    topP: optionalNumber(body, 'top_p', { min: 0, max: 1 }),
    topK: optionalNumber(body, 'top_k', { integer: true, min: 0 }),
    minP: optionalNumber(body, 'min_p', { min: 0, max: 1 }),
    // A negative seed is llama.cpp's "random"; leaving it unset means the same.
    seed: seed !== undefined && seed >= 0 ? seed : undefined,
    stop: parseStop(body),
    presencePenalty: optionalNumber(body, 'presence_penalty', { min: -2, max: 2 }),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', { min: -2, max: 2 }),
    repeatPenalty: optionalNumber(body, 'repeat_penalty', { min: 0 }),
    logitBias: parseLogitBias(body),
    ignoreEos: optionalBoolean(body, 'ignore_eos'),
    ...parseResponseFormat(body),
  };
  return dropUndefined(sampling);
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
