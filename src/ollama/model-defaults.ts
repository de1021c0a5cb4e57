/**
 * What a created model's extras do to a request, as Ollama applies them: its parameters are the
 * defaults under the request's `options`; its messages come before the chat's own; its system
 * prompt opens a chat that does not start with one, and is /api/generate's `system` when the
 * request names none. Works on the request JSON, before the request parsers check it.
 */
import type { ModelExtras } from '../models/index.js';
import { isJsonObject, type JsonObject } from '../openai/validate.js';

export function withModelDefaults(kind: 'chat' | 'generate', body: JsonObject, extras: ModelExtras): JsonObject {
  const out: JsonObject = { ...body };
  if (extras.parameters !== undefined && (out.options === undefined || out.options === null || isJsonObject(out.options))) {
    out.options = { ...extras.parameters, ...((out.options as JsonObject | null | undefined) ?? {}) };
  }
  if (kind === 'generate') {
    // A raw prompt bypasses every template, the model's system prompt included.
    const named = out.system !== undefined && out.system !== null && out.system !== '';
    if (extras.system !== undefined && !named && out.raw !== true) out.system = extras.system;
    return out;
  }
  // A malformed messages field is left for the chat parser to refuse; an empty one asks for a load, which stays one.
  if (!Array.isArray(out.messages) || out.messages.length === 0) return out;
  const messages: unknown[] = [...(extras.messages ?? []), ...out.messages];
  const first = messages[0];
  if (extras.system !== undefined && !(isJsonObject(first) && first.role === 'system')) {
    messages.unshift({ role: 'system', content: extras.system });
  }
  out.messages = messages;
  return out;
}
