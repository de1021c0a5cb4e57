/** Responses `input` (a string or a list of items) -> normalized items -> the engine's chat messages. */
import type { ChatMessage, Role } from '../engine/types.js';
import { badParam, isJsonObject, type JsonObject } from '../openai/validate.js';

/** The conversation items this server understands, in the shape it stores and replays them. */
export type InputItem =
  | { type: 'message'; role: 'system' | 'developer' | 'user' | 'assistant'; content: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

const MESSAGE_ROLES = new Set(['system', 'developer', 'user', 'assistant']);
/** Text part types: input_text from clients, output_text when they echo an assistant turn back. */
const TEXT_PARTS = new Set(['input_text', 'output_text', 'text']);

function messageText(value: unknown, param: string): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw badParam(param, `${param} must be a string or an array of content parts`);
  return value
    .map((part, i) => {
      const partParam = `${param}[${i}]`;
      if (!isJsonObject(part) || !TEXT_PARTS.has(String(part.type))) {
        throw badParam(`${partParam}.type`, `${partParam}.type must be "input_text" or "output_text"; got ${JSON.stringify(isJsonObject(part) ? part.type : part)}`);
      }
      if (typeof part.text !== 'string') throw badParam(`${partParam}.text`, `${partParam}.text must be a string`);
      return part.text;
    })
    .join('\n');
}

function requireString(item: JsonObject, field: string, param: string): string {
  const value = item[field];
  if (typeof value !== 'string') throw badParam(`${param}.${field}`, `${param}.${field} must be a string`);
  return value;
}

/** One input item, or none for an echoed reasoning item (templates drop past reasoning; it is not rendered). */
function parseItem(value: unknown, index: number): InputItem[] {
  if (isJsonObject(value) && value.type === 'reasoning') return [];
  return [parseOneItem(value, index)];
}

function parseOneItem(value: unknown, index: number): InputItem {
  const param = `input[${index}]`;
  if (!isJsonObject(value)) throw badParam(param, `${param} must be an object`);
  const type = value.type ?? 'message';
  if (type === 'message') {
    if (!MESSAGE_ROLES.has(String(value.role))) {
      throw badParam(`${param}.role`, `${param}.role must be one of user, assistant, system, developer; got ${JSON.stringify(value.role)}`);
    }
    const role = value.role as 'system' | 'developer' | 'user' | 'assistant';
    return { type, role, content: messageText(value.content, `${param}.content`) };
  }
  if (type === 'function_call') {
    return { type, call_id: requireString(value, 'call_id', param), name: requireString(value, 'name', param), arguments: requireString(value, 'arguments', param) };
  }
  if (type === 'function_call_output') {
    const output = value.output;
    // The output may be text or, in newer clients, a list of content parts.
    const text = typeof output === 'string' ? output : messageText(output, `${param}.output`);
    return { type, call_id: requireString(value, 'call_id', param), output: text };
  }
  throw badParam(`${param}.type`, `${param}.type ${JSON.stringify(type)} is not supported: use message, function_call, function_call_output or reasoning`);
}

export function parseInput(value: unknown): InputItem[] {
  if (typeof value === 'string') return [{ type: 'message', role: 'user', content: value }];
  if (!Array.isArray(value)) throw badParam('input', 'input is required and must be a string or an array of items');
  return value.flatMap(parseItem);
}

const ROLE: Record<string, Role> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

/**
 * Items -> chat messages. Function calls join the assistant turn before them (its text included), as
 * chat templates expect one assistant message carrying its text and all its calls.
 */
export function toChatMessages(instructions: string | undefined, items: InputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const item of items) {
    if (item.type === 'message') {
      messages.push({ role: ROLE[item.role]!, content: item.content });
    } else if (item.type === 'function_call') {
      const call = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = messages.at(-1);
      if (last?.role === 'assistant') (last.toolCalls ??= []).push(call);
      else messages.push({ role: 'assistant', content: '', toolCalls: [call] });
    } else {
      messages.push({ role: 'tool', content: item.output, toolCallId: item.call_id });
    }
  }
  return messages;
}
