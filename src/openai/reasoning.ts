/**
 * Chat completions' reasoning knobs -> the engine's thinking options, as llama-server takes them:
 * the reasoning of a model whose template has a thinking section comes back as
 * `reasoning_content` unless `reasoning_format` is "none" (the text as generated);
 * `chat_template_kwargs.enable_thinking` switches it on or off in the template (Qwen3's
 * variable), and so does `reasoning_effort` ("none" off, any effort on).
 */
import type { ThinkingOptions } from '../engine/types.js';
import { badParam, type JsonObject, optionalObject, optionalString } from './validate.js';

/** llama-server's reasoning formats: "none" leaves the thinking in `content`, the others split it off. */
const FORMATS: ReadonlySet<string> = new Set(['none', 'auto', 'deepseek', 'deepseek-legacy']);

export function parseReasoning(body: JsonObject): ThinkingOptions {
  const format = optionalString(body, 'reasoning_format');
  if (format !== undefined && !FORMATS.has(format)) {
    throw badParam('reasoning_format', `reasoning_format must be one of ${[...FORMATS].join(', ')}; got ${JSON.stringify(format)}`);
  }
  const options: ThinkingOptions = { separate: format !== 'none' };
  const effort = optionalString(body, 'reasoning_effort');
  if (effort !== undefined) options.enabled = effort !== 'none';
  const kwargs = optionalObject(body, 'chat_template_kwargs');
  const enable = kwargs?.enable_thinking;
  if (enable !== undefined && enable !== null) {
    if (typeof enable !== 'boolean') throw badParam('chat_template_kwargs.enable_thinking', 'chat_template_kwargs.enable_thinking must be a boolean');
    options.enabled = enable;
  }
  return options;
}
