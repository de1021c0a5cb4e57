/**
 * Engine events -> Ollama's /api/chat and /api/generate answers: NDJSON chunks while streaming,
 * then a final object with `done: true`, the reason and the timings. Ollama counts every
 * duration in nanoseconds.
 */
import type { FinishReason, ToolCall, Usage } from '../engine/types.js';

const NANOSECONDS_PER_MILLISECOND = 1_000_000;

export function msToNs(ms: number): number {
  return Math.max(0, Math.round(ms * NANOSECONDS_PER_MILLISECOND));
}

/** Ollama's reasons: 'load' and 'unload' for requests without a prompt, otherwise 'stop' or 'length'. */
export type OllamaDoneReason = 'stop' | 'length' | 'load' | 'unload';

/** A call is a finished turn in Ollama's vocabulary; an aborted one never reaches a client. */
export function doneReason(reason: FinishReason): OllamaDoneReason {
  return reason === 'length' ? 'length' : 'stop';
}

export interface OllamaToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

/** Ollama clients read `arguments` as an object; text that is not a JSON object becomes {}. */
function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function toOllamaToolCalls(calls: readonly ToolCall[], firstIndex = 0): OllamaToolCall[] {
  return calls.map((call, i) => ({
    id: call.id,
    function: { index: firstIndex + i, name: call.name, arguments: parseArguments(call.arguments) },
  }));
}

export interface OllamaMessage {
  role: 'assistant';
  content: string;
  /** The model's reasoning, apart from `content`. */
  thinking?: string;
  tool_calls?: OllamaToolCall[];
}

export interface ChatChunk {
  model: string;
  created_at: string;
  message: OllamaMessage;
  done: false;
}

export interface GenerateChunk {
  model: string;
  created_at: string;
  response: string;
  thinking?: string;
  done: false;
}

/** What the router measured around one generation, in milliseconds. */
export interface GenerationStats {
  /** From the request's arrival to the end of the answer. */
  totalMs: number;
  /** Waiting for the model: its load, or a free slot when it was already loaded. */
  loadMs: number;
  usage: Usage;
  /** The engine's prompt evaluation and generation times. */
  promptMs: number;
  generationMs: number;
}

export interface FinalFields {
  done: true;
  done_reason: OllamaDoneReason;
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  /** Prompt tokens served from the KV cache (in memory, or restored from a saved prefix); counted in prompt_eval_count too. Ollama omits it when none. */
  prompt_eval_cached_count?: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

export function finalFields(reason: OllamaDoneReason, stats: GenerationStats): FinalFields {
  return {
    done: true,
    done_reason: reason,
    total_duration: msToNs(stats.totalMs),
    load_duration: msToNs(stats.loadMs),
    prompt_eval_count: stats.usage.promptTokens,
    ...(stats.usage.cachedTokens ? { prompt_eval_cached_count: stats.usage.cachedTokens } : {}),
    prompt_eval_duration: msToNs(stats.promptMs),
    eval_count: stats.usage.completionTokens,
    eval_duration: msToNs(stats.generationMs),
  };
}

export function assistantMessage(content: string, toolCalls?: OllamaToolCall[], thinking = ''): OllamaMessage {
  const message: OllamaMessage = { role: 'assistant', content };
  if (thinking !== '') message.thinking = thinking;
  if (toolCalls && toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

export function chatChunk(model: string, createdAt: string, content: string, toolCalls?: OllamaToolCall[], thinking = ''): ChatChunk {
  return { model, created_at: createdAt, message: assistantMessage(content, toolCalls, thinking), done: false };
}

/** A piece of the answer, or (with `thinking`) of the reasoning before it: then `response` is empty, as Ollama sends it. */
export function generateChunk(model: string, createdAt: string, response: string, thinking = ''): GenerateChunk {
  return { model, created_at: createdAt, response, ...(thinking !== '' ? { thinking } : {}), done: false };
}

/** The last chat object: the whole answer when not streaming, an empty message after a stream. */
export function chatFinal(model: string, createdAt: string, message: OllamaMessage, fields: FinalFields) {
  return { model, created_at: createdAt, message, ...fields };
}

export function generateFinal(model: string, createdAt: string, response: string, fields: FinalFields, thinking = '') {
  return { model, created_at: createdAt, response, ...(thinking !== '' ? { thinking } : {}), ...fields };
}

/** The answer to a request without prompt or messages: the model was loaded or unloaded, nothing generated. */
export function lifecycleReply(kind: 'chat' | 'generate', model: string, createdAt: string, reason: 'load' | 'unload') {
  return kind === 'chat'
    ? { model, created_at: createdAt, message: { role: 'assistant' as const, content: '' }, done_reason: reason, done: true as const }
    : { model, created_at: createdAt, response: '', done_reason: reason, done: true as const };
}
