/** POST /v1/embeddings body -> EmbedRequest. */
import type { EmbedRequest } from '../engine/types.js';
import { parseKeepAlive, parseModel } from './request-common.js';
import { badParam, type JsonObject, optionalString, requireObjectBody } from './validate.js';

/** 'float' returns arrays of numbers; 'base64' packs little-endian float32s (the OpenAI Python client's default). */
export type EncodingFormat = 'float' | 'base64';

export interface ParsedEmbeddingsRequest {
  model: string;
  keepAlive?: string | number;
  encodingFormat: EncodingFormat;
  request: EmbedRequest;
}

function parseInput(body: JsonObject): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((item) => typeof item === 'string')) return input as string[];
    if (input.some((item) => typeof item === 'number' || Array.isArray(item))) {
      throw badParam('input', 'input: token arrays are not supported; send a string or an array of strings');
    }
  }
  if (input === undefined || input === null) throw badParam('input', 'input is required');
  throw badParam('input', 'input must be a string or a non-empty array of strings');
}

function parseEncodingFormat(body: JsonObject): EncodingFormat {
  const format = optionalString(body, 'encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw badParam('encoding_format', `encoding_format must be "float" or "base64", got ${JSON.stringify(format)}`);
  }
  return format;
}

export function parseEmbeddingsRequest(body: unknown): ParsedEmbeddingsRequest {
  const object = requireObjectBody(body);
  const model = parseModel(object);
  const inputs = parseInput(object);
  const parsed: ParsedEmbeddingsRequest = { model, encodingFormat: parseEncodingFormat(object), request: { inputs } };
  const keepAlive = parseKeepAlive(object);
  if (keepAlive !== undefined) parsed.keepAlive = keepAlive;
  return parsed;
}
