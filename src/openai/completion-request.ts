/** POST /v1/completions body -> CompletionRequest. */
import type { CompletionRequest } from '../engine/types.js';
import { parseCompletionLogprobs } from './logprobs.js';
import { type CommonFields, parseCommonFields } from './request-common.js';
import { parseSampling } from './sampling.js';
import { badParam, type JsonObject, requireObjectBody } from './validate.js';

export interface ParsedCompletionRequest extends CommonFields {
  request: CompletionRequest;
}

/** A prompt is a string or an array holding one string; token arrays and batches are not supported. */
function parsePrompt(body: JsonObject): string {
  const prompt = body.prompt;
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) {
    if (prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
    if (prompt.length > 0 && prompt.every((p) => typeof p === 'number' || Array.isArray(p))) {
      throw badParam('prompt', 'prompt: token arrays are not supported; send the prompt as a string');
    }
    throw badParam('prompt', `prompt must be a string or an array with exactly one string, got an array of ${prompt.length}`);
  }
  if (prompt === undefined || prompt === null) throw badParam('prompt', 'prompt is required');
  throw badParam('prompt', 'prompt must be a string');
}

export function parseCompletionRequest(body: unknown): ParsedCompletionRequest {
  const object = requireObjectBody(body);
  const common = parseCommonFields(object);
  const prompt = parsePrompt(object);
  const sampling = parseSampling(object);
  const logprobs = parseCompletionLogprobs(object);
  if (logprobs !== undefined) sampling.logprobs = logprobs;
  return { ...common, request: { kind: 'completion', prompt, sampling } };
}
