/**
 * The `function` objects of tool definitions and tool calls. OpenAI and Ollama nest them the
 * same way, so both translators read them here and differ only in what surrounds them.
 */
import type { ToolCall, ToolDefinition } from '../engine/types.js';
import { badParam, isJsonObject, type JsonObject, optionalObject, optionalString } from './validate.js';

/** The required `function.name` of `object`, with the function object it was read from. */
function requireFunction(object: JsonObject, param: string): { fn: JsonObject; name: string } {
  const fn = optionalObject(object, 'function', `${param}.function`);
  const name = fn ? optionalString(fn, 'name', `${param}.function.name`) : undefined;
  if (!fn || !name) throw badParam(`${param}.function.name`, `${param}.function.name is required`);
  return { fn, name };
}

/** One entry of `tools`, once the caller has checked its `type`. */
export function parseToolFunction(tool: JsonObject, param: string): ToolDefinition {
  const { fn, name } = requireFunction(tool, param);
  const definition: ToolDefinition = { name };
  const description = optionalString(fn, 'description', `${param}.function.description`);
  if (description !== undefined) definition.description = description;
  const parameters = optionalObject(fn, 'parameters', `${param}.function.parameters`);
  if (parameters !== undefined) definition.parameters = parameters;
  return definition;
}

/**
 * Tool calls an assistant made earlier in the conversation, sent back as history. A call
 * without an `id` gets `fallbackId(i)`, which each protocol words its own way.
 */
export function parseToolCalls(value: unknown, param: string, fallbackId: (index: number) => string): ToolCall[] {
  if (!Array.isArray(value)) throw badParam(param, `${param} must be an array`);
  return value.map((call, i) => {
    const callParam = `${param}[${i}]`;
    if (!isJsonObject(call)) throw badParam(callParam, `${callParam} must be an object`);
    const { fn, name } = requireFunction(call, callParam);
    const args = fn.arguments;
    // OpenAI sends JSON text and Ollama an object, and clients copy each other's habit; the
    // engine wants JSON text either way.
    const argumentsText = typeof args === 'string' ? args : args === undefined || args === null ? '{}' : JSON.stringify(args);
    const id = optionalString(call, 'id', `${callParam}.id`) ?? fallbackId(i);
    return { id, name, arguments: argumentsText };
  });
}
