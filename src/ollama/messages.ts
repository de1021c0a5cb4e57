/**
 * Ollama chat messages and tools -> the engine's. Ollama's tools have OpenAI's function shape;
 * its tool calls carry `arguments` as an object rather than JSON text, and its tool results name
 * the function (`tool_name`) rather than the call, so results are paired with calls here.
 */
import type { ChatMessage, Role, ToolCall, ToolDefinition } from '../engine/types.js';
import { parseToolCalls, parseToolFunction } from '../openai/tool-fields.js';
import { badParam, isJsonObject, type JsonObject, optionalString } from '../openai/validate.js';
import { rejectImages } from './common.js';

const ROLES: ReadonlySet<string> = new Set<Role>(['system', 'user', 'assistant', 'tool']);

/**
 * Calls still waiting for a result, in order. A tool message without `tool_call_id` answers the
 * first waiting call of its function, or else the first waiting call.
 */
class PendingCalls {
  private calls: ToolCall[] = [];

  reset(calls: ToolCall[]): void {
    this.calls = [...calls];
  }

  take(id: string | undefined, name: string | undefined): string | undefined {
    let index: number;
    if (id !== undefined) {
      index = this.calls.findIndex((c) => c.id === id);
    } else {
      index = name === undefined ? -1 : this.calls.findIndex((c) => c.name === name);
      if (index < 0 && this.calls.length > 0) index = 0;
    }
    if (index < 0) return id;
    const [call] = this.calls.splice(index, 1);
    return call!.id;
  }
}

function parseMessage(value: unknown, index: number, pending: PendingCalls): ChatMessage {
  const param = `messages[${index}]`;
  if (!isJsonObject(value)) throw badParam(param, `${param} must be an object with "role" and "content"`);
  if (typeof value.role !== 'string' || !ROLES.has(value.role)) {
    throw badParam(`${param}.role`, `${param}.role must be one of system, user, assistant, tool; got ${JSON.stringify(value.role)}`);
  }
  const role = value.role as Role;
  const content = optionalString(value, 'content', `${param}.content`) ?? '';
  rejectImages(value.images, `${param}.images`);
  const message: ChatMessage = { role, content };
  if (role === 'assistant' && value.tool_calls !== undefined && value.tool_calls !== null) {
    // Ollama's clients rarely send call IDs; a stable made-up one lets results find their call.
    const calls = parseToolCalls(value.tool_calls, `${param}.tool_calls`, (i) => `call_${index}_${i}`);
    if (calls.length > 0) message.toolCalls = calls;
    pending.reset(calls);
  }
  if (role === 'tool') {
    const name = optionalString(value, 'tool_name', `${param}.tool_name`) ?? optionalString(value, 'name', `${param}.name`);
    if (name !== undefined) message.name = name;
    const callId = pending.take(optionalString(value, 'tool_call_id', `${param}.tool_call_id`), name);
    if (callId !== undefined) message.toolCallId = callId;
  }
  return message;
}

/** An empty list is legal in Ollama: it asks only for the model to be loaded (or unloaded). */
export function parseMessages(body: JsonObject): ChatMessage[] {
  const messages = body.messages;
  if (messages === undefined || messages === null) return [];
  if (!Array.isArray(messages)) throw badParam('messages', 'messages must be an array');
  const pending = new PendingCalls();
  return messages.map((m, i) => parseMessage(m, i, pending));
}

export function parseTools(body: JsonObject): ToolDefinition[] | undefined {
  const tools = body.tools;
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw badParam('tools', 'tools must be an array');
  const definitions = tools.map((tool, i) => {
    const param = `tools[${i}]`;
    if (!isJsonObject(tool) || (tool.type !== undefined && tool.type !== 'function')) {
      throw badParam(`${param}.type`, `${param}.type must be "function"`);
    }
    return parseToolFunction(tool, param);
  });
  return definitions.length > 0 ? definitions : undefined;
}
