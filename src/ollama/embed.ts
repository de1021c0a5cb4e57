/** POST /api/embed and the legacy POST /api/embeddings: bodies -> EmbedRequest, results -> answers. */
import type { EmbedRequest, EmbedResult } from '../engine/types.js';
import { badParam, type JsonObject, optionalBoolean, optionalNumber, optionalString } from '../openai/validate.js';
import { parseModelName, parseOllamaKeepAlive, requireObjectBody } from './common.js';
import { parseOptions } from './options.js';
import { msToNs } from './responses.js';

export interface ParsedOllamaEmbed {
  model: string;
  keepAlive?: string | number;
  request: EmbedRequest;
  /** options.num_ctx, persisted like a chat request's. */
  numCtx?: number;
}

function withCommon(object: JsonObject, model: string, inputs: string[]): ParsedOllamaEmbed {
  const parsed: ParsedOllamaEmbed = { model, request: { inputs } };
  const keepAlive = parseOllamaKeepAlive(object);
  if (keepAlive !== undefined) parsed.keepAlive = keepAlive;
  const { numCtx } = parseOptions(object);
  if (numCtx !== undefined) parsed.numCtx = numCtx;
  return parsed;
}

function parseInput(body: JsonObject): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  if (input === undefined || input === null) throw badParam('input', 'input is required');
  throw badParam('input', 'input must be a string or an array of strings');
}

/**
 * `truncate` is accepted and has no effect: an input longer than the context fails instead of
 * being cut. `dimensions` is refused, since returning full-size vectors would quietly break the
 * caller's index.
 */
export function parseOllamaEmbed(body: unknown): ParsedOllamaEmbed {
  const object = requireObjectBody(body);
  const model = parseModelName(object);
  const inputs = parseInput(object);
  optionalBoolean(object, 'truncate');
  const dimensions = optionalNumber(object, 'dimensions', { integer: true, min: 1 });
  if (dimensions !== undefined) throw badParam('dimensions', 'dimensions is not supported: vectors have the model\'s own size');
  return withCommon(object, model, inputs);
}

export function parseOllamaLegacyEmbedding(body: unknown): ParsedOllamaEmbed {
  const object = requireObjectBody(body);
  const model = parseModelName(object);
  // An empty prompt is legal in Ollama and answers an empty embedding.
  const prompt = optionalString(object, 'prompt') ?? '';
  return withCommon(object, model, prompt === '' ? [] : [prompt]);
}

/** /api/embed returns unit-length vectors (Ollama normalises them); a zero vector stays zero. */
export function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? [...vector] : vector.map((x) => x / norm);
}

export interface EmbedTimings {
  totalMs: number;
  loadMs: number;
}

export function toOllamaEmbedResponse(model: string, result: EmbedResult, timings: EmbedTimings) {
  return {
    model,
    embeddings: result.vectors.map(normalize),
    total_duration: msToNs(timings.totalMs),
    load_duration: msToNs(timings.loadMs),
    prompt_eval_count: result.promptTokens,
  };
}

/** The legacy route returns the vector as the model produced it, unnormalised, as Ollama does. */
export function toOllamaLegacyEmbedding(result: EmbedResult): { embedding: number[] } {
  return { embedding: result.vectors[0] ?? [] };
}
