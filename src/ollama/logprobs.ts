/**
 * Log-probabilities as Ollama (0.12 and later) words them: the request sets `logprobs: true` and
 * `top_logprobs: 0..20`; every chunk, and the final object of an answer that is not streamed,
 * carries `logprobs: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]` for its
 * own tokens.
 */
import type { TokenLogprob } from '../engine/types.js';
import { badParam, type JsonObject, optionalBoolean, optionalNumber } from '../openai/validate.js';

/** Ollama's limit on top_logprobs. */
export const MAX_TOP_LOGPROBS = 20;

/** Alternatives per token the request asks for, or undefined when it asks for no logprobs. */
export function parseOllamaLogprobs(body: JsonObject): number | undefined {
  const wanted = optionalBoolean(body, 'logprobs');
  const top = optionalNumber(body, 'top_logprobs', { integer: true, min: 0, max: MAX_TOP_LOGPROBS });
  if (top !== undefined && top > 0 && wanted !== true) throw badParam('top_logprobs', 'top_logprobs requires logprobs to be true');
  return wanted === true ? (top ?? 0) : undefined;
}

export interface OllamaTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface OllamaLogprob extends OllamaTokenLogprob {
  top_logprobs: OllamaTokenLogprob[];
}

export function toOllamaLogprobs(entries: readonly TokenLogprob[]): OllamaLogprob[] {
  return entries.map((e) => ({ token: e.token, logprob: e.logprob, bytes: e.bytes, top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })) }));
}

/** `{logprobs}` to spread into a chunk or final object when there are entries, else nothing. */
export function logprobsField(entries: readonly TokenLogprob[] | undefined): { logprobs?: OllamaLogprob[] } {
  return entries && entries.length > 0 ? { logprobs: toOllamaLogprobs(entries) } : {};
}
