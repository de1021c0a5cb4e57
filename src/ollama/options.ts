/**
 * Ollama's `options` (Modelfile parameters) and `format` -> the engine's SamplingOptions. The
 * sampling fields that share OpenAI's meaning are checked by the OpenAI layer's reader, so both
 * APIs accept and refuse the same values; Ollama-only spellings are translated first.
 */
import type { SamplingOptions } from '../engine/types.js';
import { AppError, isAppError } from '../errors.js';
import { parseSampling } from '../openai/sampling.js';
import { RUNTIME_BOUNDS } from '../util/runtime-bounds.js';
import { badParam, isJsonObject, type JsonObject, optionalNumber, optionalObject } from '../openai/validate.js';

export interface ParsedOptions {
  sampling: SamplingOptions;
  /** options.num_ctx: the context size the caller wants the model loaded with. */
  numCtx?: number;
}

/** Option names that mean the same thing in OpenAI's vocabulary, copied over unchanged. */
const SHARED_FIELDS = [
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'seed',
  'stop',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
] as const;

/** num_predict: -1 is "no limit" and -2 "fill the context" in Ollama; both leave the engine's default. */
function parseNumPredict(options: JsonObject): number | undefined {
  const value = optionalNumber(options, 'num_predict', { integer: true });
  if (value === undefined || value < 0) return undefined;
  if (value === 0) throw badParam('num_predict', 'num_predict must be at least 1 (or -1 for no limit), got 0');
  return value;
}

/** The OpenAI reader names fields as it knows them; the caller wrote them inside `options`. */
function underOptions(err: unknown): unknown {
  if (!isAppError(err) || err.code !== 'bad_request') return err;
  const param = typeof err.data?.param === 'string' ? err.data.param : undefined;
  if (param === undefined) return err;
  const message = err.message.startsWith(param) ? `options.${err.message}` : err.message;
  return new AppError('bad_request', message, { data: { ...err.data, param: `options.${param}` }, cause: err });
}

/**
 * `format`: "json" constrains the output to any JSON value, an object is a JSON schema, and ""
 * or null mean free text. Docker's shim drops this field; honouring it is the point.
 */
export function parseFormat(body: JsonObject): Pick<SamplingOptions, 'json' | 'jsonSchema'> {
  const format = body.format;
  if (format === undefined || format === null || format === '') return {};
  if (format === 'json') return { json: true };
  if (isJsonObject(format)) return { jsonSchema: format };
  throw badParam('format', `format must be "json" or a JSON schema object, got ${JSON.stringify(format)}`);
}

export function parseOptions(body: JsonObject): ParsedOptions {
  const options = optionalObject(body, 'options') ?? {};
  const shared: JsonObject = {};
  for (const field of SHARED_FIELDS) if (options[field] !== undefined) shared[field] = options[field];
  let sampling: SamplingOptions;
  let maxTokens: number | undefined;
  let numCtx: number | undefined;
  try {
    sampling = parseSampling(shared);
    maxTokens = parseNumPredict(options);
    // The same range as `_configure` and `serve --context-size`: num_ctx is persisted as the model's context size.
    numCtx = optionalNumber(options, 'num_ctx', { integer: true, ...RUNTIME_BOUNDS.contextSize });
  } catch (err) {
    throw underOptions(err);
  }
  if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  Object.assign(sampling, parseFormat(body));
  const parsed: ParsedOptions = { sampling };
  if (numCtx !== undefined) parsed.numCtx = numCtx;
  return parsed;
}
