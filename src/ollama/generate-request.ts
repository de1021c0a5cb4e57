/**
 * POST /api/generate body -> an engine request. A normal prompt goes through the model's chat
 * template as one user turn (with `system` before it), which is what Ollama's default template
 * does; `raw` sends the prompt to the model as plain text.
 */
import type { ChatMessage, GenerateRequest } from '../engine/types.js';
import { optionalBoolean, optionalString } from '../openai/validate.js';
import { actionFor, type ParsedOllamaCommon, presentFields } from './chat-request.js';
import { parseModelName, parseOllamaKeepAlive, parseStream, rejectImages, requireObjectBody } from './common.js';
import { parseOllamaLogprobs } from './logprobs.js';
import { parseOptions } from './options.js';
import { parseThink } from './think.js';

export interface ParsedOllamaGenerate extends ParsedOllamaCommon {
  request: GenerateRequest;
}

/**
 * `suffix` (fill-in-the-middle) needs the model's FIM tokens, `template` a template engine and
 * `context` the token state of an earlier answer; none exists here, so they are accepted and ignored.
 */
const IGNORED_GENERATE_FIELDS = ['suffix', 'template', 'context', 'truncate', 'shift'] as const;

export function parseOllamaGenerate(body: unknown): ParsedOllamaGenerate {
  const object = requireObjectBody(body);
  const model = parseModelName(object);
  const prompt = optionalString(object, 'prompt') ?? '';
  const system = optionalString(object, 'system');
  optionalString(object, 'suffix');
  const raw = optionalBoolean(object, 'raw') ?? false;
  rejectImages(object.images, 'images');
  const { sampling, numCtx } = parseOptions(object);
  const logprobs = parseOllamaLogprobs(object);
  if (logprobs !== undefined) sampling.logprobs = logprobs;
  const keepAlive = parseOllamaKeepAlive(object);
  const thinking = parseThink(object);

  let request: GenerateRequest;
  if (raw) {
    request = { kind: 'completion', prompt, sampling };
  } else {
    const messages: ChatMessage[] = [];
    if (system) messages.push({ role: 'system', content: system });
    messages.push({ role: 'user', content: prompt });
    request = { kind: 'chat', messages, sampling, thinking };
  }
  const ignored = presentFields(object, IGNORED_GENERATE_FIELDS);
  // A raw prompt bypasses every template, system prompt included.
  if (raw && system) ignored.push('system');
  // Nor is there a template to think in: the reply comes back as generated.
  if (raw && presentFields(object, ['think']).length > 0) ignored.push('think');
  const parsed: ParsedOllamaGenerate = {
    model,
    stream: parseStream(object),
    action: actionFor(prompt === '', keepAlive),
    ignored,
    request,
  };
  if (keepAlive !== undefined) parsed.keepAlive = keepAlive;
  if (numCtx !== undefined) parsed.numCtx = numCtx;
  return parsed;
}
