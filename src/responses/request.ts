/**
 * POST /v1/responses body -> the same ChatRequest the chat completions route builds. Sampling,
 * structured output and tool_choice go through the chat path's own readers, so Responses
 * enforces them exactly as chat does.
 */
import type { ChatRequest, ThinkingOptions, ToolChoice, ToolDefinition } from '../engine/types.js';
import { parseKeepAlive, parseModel } from '../openai/request-common.js';
import { parseSampling } from '../openai/sampling.js';
import { badParam, isJsonObject, type JsonObject, optionalBoolean, optionalNumber, optionalObject, optionalString, requireObjectBody } from '../openai/validate.js';
import { type InputItem, parseInput } from './input-items.js';

export interface ParsedResponsesRequest {
  model: string;
  stream: boolean;
  /** Whether to keep the response for GET and previous_response_id. */
  store: boolean;
  previousResponseId?: string;
  instructions?: string;
  /** This turn's input only; the handler prepends the stored conversation. */
  input: InputItem[];
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  keepAlive?: string | number;
  /** Request fields the response object echoes back. */
  echo: { tools: JsonObject[]; tool_choice: unknown; text: JsonObject; metadata: JsonObject; parallel_tool_calls: boolean; max_output_tokens: number | null; temperature: number; top_p: number };
  /** Sampling as the engine reads it. */
  sampling: ChatRequest['sampling'];
  /** A reasoning model's thinking: always a reasoning item apart from the message; `reasoning.effort` "none" switches it off. */
  thinking: ThinkingOptions;
}

/** Sampling fields llama-server accepts beyond OpenAI's, read here as the chat route reads them. */
const LLAMA_EXTENSIONS = ['seed', 'top_k', 'min_p', 'ignore_eos', 'stop', 'repeat_penalty'] as const;

function parseTools(body: JsonObject): { tools: ToolDefinition[]; echo: JsonObject[] } {
  const value = body.tools;
  if (value === undefined || value === null) return { tools: [], echo: [] };
  if (!Array.isArray(value)) throw badParam('tools', 'tools must be an array');
  const tools = value.map((tool, i): ToolDefinition => {
    const param = `tools[${i}]`;
    if (!isJsonObject(tool) || tool.type !== 'function') {
      throw badParam(`${param}.type`, `${param}.type must be "function": only function tools are supported`);
    }
    const name = optionalString(tool, 'name', `${param}.name`);
    if (!name) throw badParam(`${param}.name`, `${param}.name is required`);
    const definition: ToolDefinition = { name };
    const description = optionalString(tool, 'description', `${param}.description`);
    if (description !== undefined) definition.description = description;
    const parameters = optionalObject(tool, 'parameters', `${param}.parameters`);
    if (parameters !== undefined) definition.parameters = parameters;
    optionalBoolean(tool, 'strict', `${param}.strict`);
    return definition;
  });
  return { tools, echo: value as JsonObject[] };
}

function parseToolChoice(body: JsonObject, tools: ToolDefinition[]): ToolChoice | undefined {
  const value = body.tool_choice;
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (isJsonObject(value) && value.type === 'function' && typeof value.name === 'string') {
    const name = value.name;
    if (!tools.some((t) => t.name === name)) throw badParam('tool_choice', `tool_choice names function "${name}", which is not in tools`);
    return { name };
  }
  throw badParam('tool_choice', 'tool_choice must be "auto", "none", "required" or {"type":"function","name":...}');
}

/** text.format in the Responses' flat shape, rewritten as chat's response_format for parseSampling. */
function responseFormat(body: JsonObject): { format: JsonObject | undefined; text: JsonObject } {
  const text = optionalObject(body, 'text') ?? {};
  const format = optionalObject(text, 'format', 'text.format');
  if (!format) return { format: undefined, text: { format: { type: 'text' } } };
  const type = optionalString(format, 'type', 'text.format.type');
  if (type === 'json_schema') {
    const schema = optionalObject(format, 'schema', 'text.format.schema');
    return { format: { type, json_schema: { name: format.name, strict: format.strict, schema } }, text: { format } };
  }
  if (type === undefined || type === 'text' || type === 'json_object') return { format: { type: type ?? 'text' }, text: { format } };
  throw badParam('text.format.type', `text.format.type must be "text", "json_object" or "json_schema", got ${JSON.stringify(type)}`);
}

function parseMetadata(body: JsonObject): JsonObject {
  const metadata = optionalObject(body, 'metadata') ?? {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw badParam('metadata', `metadata values must be strings; "${key}" is not`);
  }
  return metadata;
}

export function parseResponsesRequest(body: unknown): ParsedResponsesRequest {
  const object = requireObjectBody(body);
  const model = parseModel(object);
  if (object.input === undefined || object.input === null) throw badParam('input', 'input is required: a string or an array of items');
  const input = parseInput(object.input);
  const { tools, echo: toolsEcho } = parseTools(object);
  const toolChoice = parseToolChoice(object, tools);
  const { format, text } = responseFormat(object);
  const maxOutputTokens = optionalNumber(object, 'max_output_tokens', { integer: true, min: 1 });
  const sampling = parseSampling({
    temperature: object.temperature,
    top_p: object.top_p,
    max_tokens: maxOutputTokens,
    response_format: format,
    // llama-server's sampling extensions, which its clients send to every OpenAI route.
    ...Object.fromEntries(LLAMA_EXTENSIONS.map((field) => [field, object[field]])),
  });
  const previousResponseId = optionalString(object, 'previous_response_id');
  const instructions = optionalString(object, 'instructions');
  const parallel = optionalBoolean(object, 'parallel_tool_calls') ?? true;
  const effort = optionalString(optionalObject(object, 'reasoning') ?? {}, 'effort', 'reasoning.effort');
  const thinking: ThinkingOptions = effort === undefined ? { separate: true } : { separate: true, enabled: effort !== 'none' };
  const parsed: ParsedResponsesRequest = {
    model,
    stream: optionalBoolean(object, 'stream') ?? false,
    store: optionalBoolean(object, 'store') ?? true,
    input,
    tools,
    keepAlive: parseKeepAlive(object),
    sampling,
    thinking,
    echo: {
      tools: toolsEcho,
      tool_choice: object.tool_choice ?? 'auto',
      text,
      metadata: parseMetadata(object),
      parallel_tool_calls: parallel,
      max_output_tokens: maxOutputTokens ?? null,
      temperature: sampling.temperature ?? 1,
      top_p: sampling.topP ?? 1,
    },
  };
  if (previousResponseId) parsed.previousResponseId = previousResponseId;
  if (instructions !== undefined) parsed.instructions = instructions;
  if (toolChoice !== undefined) parsed.toolChoice = toolChoice;
  return parsed;
}

/** The engine request for this turn, given the conversation so far (stored turns plus this input). */
export function toEngineRequest(parsed: ParsedResponsesRequest, messages: ChatRequest['messages']): ChatRequest {
  const request: ChatRequest = { kind: 'chat', messages, sampling: parsed.sampling, thinking: parsed.thinking };
  if (parsed.tools.length > 0) request.tools = parsed.tools;
  if (parsed.toolChoice !== undefined) request.toolChoice = parsed.toolChoice;
  // The engine keeps the first call only; the response echoes the switch as sent.
  if (!parsed.echo.parallel_tool_calls) request.parallelToolCalls = false;
  return request;
}
