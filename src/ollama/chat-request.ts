/** POST /api/chat body -> a ChatRequest, or a load/unload request when there are no messages. */
import type { ChatRequest } from '../engine/types.js';
import { applyParallelToolCalls, parseToolChoice } from '../openai/chat-request.js';
import { isZeroKeepAlive, parseModelName, parseOllamaKeepAlive, parseStream, requireObjectBody } from './common.js';
import { parseOllamaLogprobs } from './logprobs.js';
import { parseMessages, parseTools } from './messages.js';
import { parseOptions } from './options.js';
import { parseThink } from './think.js';

/** What /api/chat and /api/generate have in common once parsed. */
export interface ParsedOllamaCommon {
  /** The model name as the client sent it; responses echo it back. */
  model: string;
  stream: boolean;
  keepAlive?: string | number;
  /** options.num_ctx, to be persisted as the model's context size. */
  numCtx?: number;
  /**
   * 'generate' runs `request`; 'load' only loads the model (empty prompt or messages);
   * 'unload' unloads it (empty prompt with keep_alive 0), as Ollama does.
   */
  action: 'generate' | 'load' | 'unload';
  /** Fields accepted but ignored, for the log: a caller may wonder why they had no effect. */
  ignored: string[];
}

export interface ParsedOllamaChat extends ParsedOllamaCommon {
  request: ChatRequest;
}

/** Fields Ollama accepts that change nothing here; listed so that a request using them is logged. */
const IGNORED_CHAT_FIELDS = ['truncate', 'shift'] as const;

/** The fields of `fields` that the body sets to something other than an empty or off value. */
export function presentFields(body: Record<string, unknown>, fields: readonly string[]): string[] {
  const empty = (v: unknown) => v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
  return fields.filter((f) => !empty(body[f]));
}

export function actionFor(empty: boolean, keepAlive: string | number | undefined): ParsedOllamaCommon['action'] {
  if (!empty) return 'generate';
  return isZeroKeepAlive(keepAlive) ? 'unload' : 'load';
}

export function parseOllamaChat(body: unknown): ParsedOllamaChat {
  const object = requireObjectBody(body);
  const model = parseModelName(object);
  const messages = parseMessages(object);
  const tools = parseTools(object);
  const { sampling, numCtx } = parseOptions(object);
  const logprobs = parseOllamaLogprobs(object);
  if (logprobs !== undefined) sampling.logprobs = logprobs;
  const keepAlive = parseOllamaKeepAlive(object);
  const request: ChatRequest = { kind: 'chat', messages, sampling, thinking: parseThink(object) };
  if (tools) request.tools = tools;
  // Extensions in OpenAI's shape (Ollama itself has neither): enforced by the engine as for OpenAI.
  const toolChoice = parseToolChoice(object, tools);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  applyParallelToolCalls(object, request);
  const parsed: ParsedOllamaChat = {
    model,
    stream: parseStream(object),
    action: actionFor(messages.length === 0, keepAlive),
    ignored: presentFields(object, IGNORED_CHAT_FIELDS),
    request,
  };
  if (keepAlive !== undefined) parsed.keepAlive = keepAlive;
  if (numCtx !== undefined) parsed.numCtx = numCtx;
  return parsed;
}
