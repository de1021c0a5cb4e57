/**
 * Log-probabilities in OpenAI's two wordings. Chat completions ask with `logprobs: true` and
 * `top_logprobs: 0..20` and get `{content: [{token, logprob, bytes, top_logprobs}]}` per choice;
 * legacy completions ask with `logprobs: 0..5` and get parallel lists (tokens, token_logprobs,
 * top_logprobs as {token: logprob} maps, text_offset).
 */
import type { TokenLogprob } from '../engine/types.js';
import { badParam, type JsonObject, optionalBoolean, optionalNumber } from './validate.js';

/** OpenAI's limit on chat top_logprobs. */
export const MAX_CHAT_TOP_LOGPROBS = 20;
/** OpenAI's limit on the legacy completions' logprobs. */
export const MAX_COMPLETION_LOGPROBS = 5;

/** Alternatives per token a chat request asks for, or undefined when it asks for no logprobs. */
export function parseChatLogprobs(body: JsonObject): number | undefined {
  const wanted = optionalBoolean(body, 'logprobs');
  const top = optionalNumber(body, 'top_logprobs', { integer: true, min: 0, max: MAX_CHAT_TOP_LOGPROBS });
  if (top !== undefined && wanted !== true) throw badParam('top_logprobs', 'top_logprobs requires logprobs to be true');
  return wanted === true ? (top ?? 0) : undefined;
}

/** Alternatives per token a legacy completion asks for (its integer `logprobs`), or undefined. */
export function parseCompletionLogprobs(body: JsonObject): number | undefined {
  return optionalNumber(body, 'logprobs', { integer: true, min: 0, max: MAX_COMPLETION_LOGPROBS });
}

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** A chat choice's `logprobs` (the whole answer's, or one chunk's tokens). */
export interface ChatLogprobs {
  content: ChatTokenLogprob[];
  refusal: null;
}

export function toChatLogprobs(entries: readonly TokenLogprob[]): ChatLogprobs {
  return {
    content: entries.map((e) => ({ token: e.token, logprob: e.logprob, bytes: e.bytes, top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })) })),
    refusal: null,
  };
}

/** A legacy completion choice's `logprobs`. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  /** Where each token starts in the choice's text (the prompt is not echoed, so the text starts at 0). */
  text_offset: number[];
}

/** @param offset Characters of the choice's text before these tokens (earlier chunks of a stream). */
export function toCompletionLogprobs(entries: readonly TokenLogprob[], offset = 0): CompletionLogprobs {
  const text_offset: number[] = [];
  let at = offset;
  for (const e of entries) {
    text_offset.push(at);
    at += e.token.length;
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    // Two alternatives with the same text (a map has one key each) keep the likelier.
    top_logprobs: entries.map((e) => Object.fromEntries([...e.top].reverse().map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}
