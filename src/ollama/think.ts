/**
 * Ollama's `think` on /api/chat and /api/generate -> the engine's thinking options. Ollama's rule:
 * unset lets a reasoning model think and returns its thinking apart (`message.thinking`,
 * `thinking`); true asks for that and refuses a model that cannot think; false renders the
 * template with thinking off. The effort levels gpt-oss takes ("low", "medium", "high") count as
 * true here: the templates this engine splits have no effort setting.
 */
import type { ThinkingOptions } from '../engine/types.js';
import { badParam, type JsonObject } from '../openai/validate.js';

const LEVELS: ReadonlySet<string> = new Set(['low', 'medium', 'high']);

export function parseThink(body: JsonObject): ThinkingOptions {
  const value = body.think;
  // Ollama's parser drops the whitespace between the thinking and the answer.
  if (value === undefined || value === null) return { separate: true, trimAnswerStart: true };
  if (value === false) return { enabled: false };
  if (value === true || (typeof value === 'string' && LEVELS.has(value))) return { enabled: true, separate: true, trimAnswerStart: true, required: true };
  throw badParam('think', `think must be true, false, "low", "medium" or "high", got ${JSON.stringify(value)}`);
}
