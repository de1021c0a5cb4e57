/** Non-streaming response bodies: chat.completion and text_completion. */
import type { FinishReason, TokenLogprob, ToolCall, Usage } from '../engine/types.js';
import { type ChatLogprobs, type CompletionLogprobs, toChatLogprobs, toCompletionLogprobs } from './logprobs.js';

/** What identifies one response; shared by its JSON body and all its stream chunks. */
export interface ResponseMeta {
  /** "chatcmpl-…" or "cmpl-…". */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model name the client sent. */
  model: string;
  /** Identifies the backend build. Defaults to omitted. */
  systemFingerprint?: string;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  /** Only when the model reasoned apart from its answer. */
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{
    index: number;
    /** `reasoning_content` only when the model reasoned apart from its answer. */
    message: { role: 'assistant'; content: string | null; reasoning_content?: string; tool_calls?: OpenAIToolCall[] };
    finish_reason: OpenAIFinishReason;
    logprobs: ChatLogprobs | null;
  }>;
  usage: OpenAIUsage;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{ index: number; text: string; finish_reason: OpenAIFinishReason; logprobs: CompletionLogprobs | null }>;
  usage: OpenAIUsage;
}

/** A generation the caller stopped has no OpenAI reason of its own; 'stop' is what llama-server reports. */
export function toOpenAIFinishReason(reason: FinishReason): OpenAIFinishReason {
  return reason === 'abort' ? 'stop' : reason;
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    ...(usage.reasoningTokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens } }),
  };
}

export function toOpenAIToolCall(call: ToolCall): OpenAIToolCall {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

/** Common head of every body and chunk; system_fingerprint only when known. */
export function metaFields<O extends string>(meta: ResponseMeta, object: O) {
  return {
    id: meta.id,
    object,
    created: meta.created,
    model: meta.model,
    ...(meta.systemFingerprint === undefined ? {} : { system_fingerprint: meta.systemFingerprint }),
  };
}

export interface ChatResult {
  text: string;
  /** The reasoning split off the answer. Defaults to none. */
  thinking?: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** Every token's entry, when the request asked for logprobs. Defaults to unset: `logprobs: null`. */
  logprobs?: TokenLogprob[];
}

export function buildChatCompletion(meta: ResponseMeta, result: ChatResult): ChatCompletion {
  const hasCalls = result.toolCalls.length > 0;
  return {
    ...metaFields(meta, 'chat.completion'),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content for a turn that only calls tools.
          content: hasCalls && result.text === '' ? null : result.text,
          ...(result.thinking ? { reasoning_content: result.thinking } : {}),
          ...(hasCalls ? { tool_calls: result.toolCalls.map(toOpenAIToolCall) } : {}),
        },
        finish_reason: toOpenAIFinishReason(result.finishReason),
        logprobs: result.logprobs ? toChatLogprobs(result.logprobs) : null,
      },
    ],
    usage: toOpenAIUsage(result.usage),
  };
}

export interface TextResult {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  /** Every token's entry, when the request asked for logprobs. Defaults to unset: `logprobs: null`. */
  logprobs?: TokenLogprob[];
}

export function buildTextCompletion(meta: ResponseMeta, result: TextResult): TextCompletion {
  return {
    ...metaFields(meta, 'text_completion'),
    choices: [
      {
        index: 0,
        text: result.text,
        finish_reason: toOpenAIFinishReason(result.finishReason),
        logprobs: result.logprobs ? toCompletionLogprobs(result.logprobs) : null,
      },
    ],
    usage: toOpenAIUsage(result.usage),
  };
}
