/** Fields several Ollama request bodies share: the model name, `stream`, `keep_alive`, `images`. */
import { AppError } from '../errors.js';
import { parseKeepAlive } from '../openai/request-common.js';
import { badParam, type JsonObject, optionalBoolean, requireObjectBody } from '../openai/validate.js';

export type { JsonObject };
export { requireObjectBody };

/** Ollama's clients send the model as `model`; older ones (and Docker's shim) as `name`. */
export function parseModelName(body: JsonObject): string {
  const value = body.model ?? body.name;
  if (value === undefined || value === null || value === '') {
    throw new AppError('bad_request', 'model is required', { data: { param: 'model' } });
  }
  if (typeof value !== 'string' || value.trim() === '') throw badParam('model', 'model must be a non-empty string');
  return value.trim();
}

/** Ollama streams unless told otherwise, the opposite of OpenAI's default. */
export function parseStream(body: JsonObject): boolean {
  return optionalBoolean(body, 'stream') ?? true;
}

/** keep_alive as sent (a duration string or seconds), validated but not interpreted. */
export function parseOllamaKeepAlive(body: JsonObject): string | number | undefined {
  return parseKeepAlive(body);
}

/** True when keep_alive says "unload now": 0, "0", "0s" and the like. */
export function isZeroKeepAlive(value: string | number | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value === 'number') return value === 0;
  return /^0+(\.0+)?(ns|us|µs|ms|s|m|h)?$/.test(value.trim());
}

/** Images need a vision projector, which this server never loads; saying so beats ignoring them. */
export function rejectImages(value: unknown, param: string): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw badParam(param, `${param} must be an array of base64 strings`);
  if (value.length > 0) throw badParam(param, 'images are not supported by this model');
}
