/** POST /v1/chat/completions body -> ChatRequest. */
import type { ChatMessage, ChatRequest, Role, ToolChoice, ToolDefinition } from '../engine/types.js';
import { parseChatLogprobs } from './logprobs.js';
import { type CommonFields, parseCommonFields } from './request-common.js';
import { parseReasoning } from './reasoning.js';
import { parseSampling } from './sampling.js';
import { parseToolCalls, parseToolFunction } from './tool-fields.js';
import { badParam, isJsonObject, type JsonObject, optionalBoolean, optionalString, requireObjectBody } from './validate.js';

export interface ParsedChatRequest extends CommonFields {
  request: ChatRequest;
}

/** 'developer' is OpenAI's newer name for the system role; templates only know 'system'. */
const ROLE_MAP: Record<string, Role> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
};

/** Content is a string, null (an assistant turn that only calls tools) or an array of text parts. */
function parseContent(value: unknown, param: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw badParam(param, `${param} must be a string or an array of content parts`);
  const texts = value.map((part, i) => {
    const partParam = `${param}[${i}]`;
    if (!isJsonObject(part)) throw badParam(partParam, `${partParam} must be an object such as {"type":"text","text":"..."}`);
    if (part.type !== 'text') {
      throw badParam(`${partParam}.type`, `${partParam}.type ${JSON.stringify(part.type)} is not supported: only "text" parts are`);
    }
    if (typeof part.text !== 'string') throw badParam(`${partParam}.text`, `${partParam}.text must be a string`);
    return part.text;
  });
  return texts.join('\n');
}

function parseMessage(value: unknown, index: number): ChatMessage {
  const param = `messages[${index}]`;
  if (!isJsonObject(value)) throw badParam(param, `${param} must be an object with "role" and "content"`);
  const role = ROLE_MAP[String(value.role)];
  if (typeof value.role !== 'string' || !role) {
    throw badParam(`${param}.role`, `${param}.role must be one of system, developer, user, assistant, tool; got ${JSON.stringify(value.role)}`);
  }
  const message: ChatMessage = { role, content: parseContent(value.content, `${param}.content`) };
  const name = optionalString(value, 'name', `${param}.name`);
  if (name !== undefined) message.name = name;
  if (role === 'assistant' && value.tool_calls !== undefined && value.tool_calls !== null) {
    const calls = parseToolCalls(value.tool_calls, `${param}.tool_calls`, (i) => `call_${i}`);
    if (calls.length > 0) message.toolCalls = calls;
  }
  if (role === 'tool') {
    const toolCallId = optionalString(value, 'tool_call_id', `${param}.tool_call_id`);
    if (toolCallId !== undefined) message.toolCallId = toolCallId;
  }
  return message;
}

export function parseMessages(body: JsonObject): ChatMessage[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badParam('messages', 'messages is required and must be a non-empty array');
  }
  return messages.map(parseMessage);
}

function parseTools(body: JsonObject): ToolDefinition[] | undefined {
  const tools = body.tools;
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw badParam('tools', 'tools must be an array');
  return tools.map((tool, i) => {
    const param = `tools[${i}]`;
    if (!isJsonObject(tool) || tool.type !== 'function') {
      throw badParam(`${param}.type`, `${param}.type must be "function"`);
    }
    return parseToolFunction(tool, param);
  });
}

/** OpenAI's tool_choice; Ollama's /api/chat accepts the same shape as an extension. */
export function parseToolChoice(body: JsonObject, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  const value = body.tool_choice;
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (isJsonObject(value) && value.type === 'function' && isJsonObject(value.function) && typeof value.function.name === 'string') {
    const name = value.function.name;
    if (!tools?.some((t) => t.name === name)) {
      throw badParam('tool_choice', `tool_choice names function "${name}", which is not in tools`);
    }
    return { name };
  }
  throw badParam('tool_choice', 'tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":...}}');
}

/**
 * Sets the engine's parallelToolCalls from parallel_tool_calls (OpenAI's, and Ollama's as an
 * extension): false allows at most one call; true or absent leaves the engine's default.
 */
export function applyParallelToolCalls(body: JsonObject, request: ChatRequest): void {
  if (optionalBoolean(body, 'parallel_tool_calls') === false) request.parallelToolCalls = false;
}

export function parseChatRequest(body: unknown): ParsedChatRequest {
  const object = requireObjectBody(body);
  const common = parseCommonFields(object);
  const messages = parseMessages(object);
  const tools = parseTools(object);
  const toolChoice = parseToolChoice(object, tools);
  const request: ChatRequest = { kind: 'chat', messages, sampling: parseSampling(object), thinking: parseReasoning(object) };
  const logprobs = parseChatLogprobs(object);
  if (logprobs !== undefined) request.sampling.logprobs = logprobs;
  if (tools && tools.length > 0) request.tools = tools;
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  applyParallelToolCalls(object, request);
  return { ...common, request };
}
