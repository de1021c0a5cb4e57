/** POST /v1/messages body (Anthropic's Messages API) -> the engine's ChatRequest. */
import { z } from 'zod';
import type { ChatMessage, ChatRequest, SamplingOptions, ToolCall, ToolChoice, ToolDefinition } from '../engine/types.js';
import { AppError } from '../errors.js';

const textBlock = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const imageBlock = z.object({ type: z.literal('image') }).passthrough();
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string().min(1), input: z.unknown() }).passthrough();
const toolResultBlock = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string(),
    content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
    is_error: z.boolean().optional(),
  })
  .passthrough();
/** Thinking an earlier reply carried, sent back with the history; templates drop past reasoning, so it is not rendered. */
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string() }).passthrough();
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking') }).passthrough();
const block = z.discriminatedUnion('type', [textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock]);
type Block = z.infer<typeof block>;

const message = z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(block)]) });

const tool = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});

/** True: at most one tool_use block in the answer. */
const disableParallel = { disable_parallel_tool_use: z.boolean().optional() };

const toolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), ...disableParallel }).passthrough(),
  z.object({ type: z.literal('any'), ...disableParallel }).passthrough(),
  z.object({ type: z.literal('none') }).passthrough(),
  z.object({ type: z.literal('tool'), name: z.string().min(1), ...disableParallel }).passthrough(),
]);

const body = z
  .object({
    model: z.string().trim().min(1),
    max_tokens: z.number().int().min(1),
    messages: z.array(message).min(1),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    stop_sequences: z.array(z.string()).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stream: z.boolean().optional(),
    tools: z.array(tool).optional(),
    tool_choice: toolChoice.optional(),
    // budget_tokens is accepted and not enforced: the reasoning ends when the model closes it.
    thinking: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(0) }).passthrough(),
        z.object({ type: z.literal('disabled') }).passthrough(),
        z.object({ type: z.literal('adaptive') }).passthrough(),
      ])
      .optional(),
    // Accepted for compatibility and ignored: no user tracking happens here.
    metadata: z.unknown().optional(),
  })
  .passthrough();

/** The count_tokens body: a Messages body without max_tokens or stream. */
const countBody = body.extend({ max_tokens: z.number().int().min(1).optional() });

export interface ParsedMessagesRequest {
  /** The model name exactly as sent; the response echoes it back. */
  model: string;
  stream: boolean;
  request: ChatRequest;
}

/** Zod's first issue, worded with the JSON path it concerns, as an invalid_request_error. */
function invalid(error: z.ZodError): AppError {
  const issue = error.issues[0]!;
  const param = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  const message = param ? `${param}: ${issue.message}` : issue.message;
  return new AppError('bad_request', message, { data: { param: param || null } });
}

function imagesUnsupported(param: string): AppError {
  return new AppError('bad_request', `${param}: image content blocks are not supported yet by this server`, { data: { param } });
}

/** Text of a tool_result's content: a string or text blocks (images refused). */
function toolResultText(result: Extract<Block, { type: 'tool_result' }>, param: string): string {
  const content = result.content ?? '';
  if (typeof content === 'string') return content;
  return content
    .map((part, i) => {
      if (part.type === 'image') throw imagesUnsupported(`${param}.content[${i}]`);
      return part.text;
    })
    .join('\n');
}

/**
 * One Anthropic turn becomes one or more chat messages: tool_result blocks in a user turn become
 * tool messages (answered calls come first, as chat templates expect them right after the call),
 * tool_use blocks in an assistant turn become that message's tool calls.
 */
function toChatMessages(turn: z.infer<typeof message>, index: number): ChatMessage[] {
  const param = `messages[${index}]`;
  if (typeof turn.content === 'string') return [{ role: turn.role, content: turn.content }];
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  turn.content.forEach((part, i) => {
    const partParam = `${param}.content[${i}]`;
    if (part.type === 'image') throw imagesUnsupported(partParam);
    if (part.type === 'text') texts.push(part.text);
    else if (part.type === 'thinking' || part.type === 'redacted_thinking') return;
    else if (part.type === 'tool_use') {
      if (turn.role !== 'assistant') throw new AppError('bad_request', `${partParam}: tool_use blocks belong in assistant turns`, { data: { param: partParam } });
      calls.push({ id: part.id, name: part.name, arguments: JSON.stringify(part.input ?? {}) });
    } else {
      if (turn.role !== 'user') throw new AppError('bad_request', `${partParam}: tool_result blocks belong in user turns`, { data: { param: partParam } });
      const text = toolResultText(part, partParam);
      results.push({ role: 'tool', toolCallId: part.tool_use_id, content: part.is_error ? `Error: ${text}` : text });
    }
  });
  const out: ChatMessage[] = [...results];
  if (texts.length > 0 || calls.length > 0 || results.length === 0) {
    const msg: ChatMessage = { role: turn.role, content: texts.join('\n') };
    if (calls.length > 0) msg.toolCalls = calls;
    out.push(msg);
  }
  return out;
}

function toToolChoice(choice: z.infer<typeof toolChoice> | undefined, tools: ToolDefinition[]): ToolChoice | undefined {
  if (!choice) return undefined;
  if (choice.type === 'auto' || choice.type === 'none') return choice.type;
  if (tools.length === 0) throw new AppError('bad_request', `tool_choice "${choice.type}" needs tools`, { data: { param: 'tool_choice' } });
  if (choice.type === 'any') return 'required';
  if (!tools.some((t) => t.name === choice.name)) {
    throw new AppError('bad_request', `tool_choice names tool "${choice.name}", which is not in tools`, { data: { param: 'tool_choice.name' } });
  }
  return { name: choice.name };
}

function toRequest(parsed: z.infer<typeof countBody>): ChatRequest {
  const messages: ChatMessage[] = [];
  if (parsed.system !== undefined) {
    const system = typeof parsed.system === 'string' ? parsed.system : parsed.system.map((b) => b.text).join('\n');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  parsed.messages.forEach((turn, i) => messages.push(...toChatMessages(turn, i)));
  const sampling: SamplingOptions = {};
  if (parsed.max_tokens !== undefined) sampling.maxTokens = parsed.max_tokens;
  if (parsed.temperature !== undefined) sampling.temperature = parsed.temperature;
  if (parsed.top_p !== undefined) sampling.topP = parsed.top_p;
  if (parsed.top_k !== undefined) sampling.topK = parsed.top_k;
  if (parsed.stop_sequences && parsed.stop_sequences.length > 0) sampling.stop = parsed.stop_sequences;
  const tools: ToolDefinition[] = (parsed.tools ?? []).map((t) => {
    const definition: ToolDefinition = { name: t.name, parameters: t.input_schema };
    if (t.description !== undefined) definition.description = t.description;
    return definition;
  });
  // A reasoning model's thinking always comes back as thinking blocks (as llama-server's Messages
  // endpoint does), so it never mixes into the text; `disabled` switches it off in the template.
  const thinking = parsed.thinking === undefined ? {} : { enabled: parsed.thinking.type !== 'disabled' };
  const request: ChatRequest = { kind: 'chat', messages, sampling, thinking: { ...thinking, separate: true } };
  const choice = toToolChoice(parsed.tool_choice, tools);
  if (tools.length > 0) request.tools = tools;
  if (choice !== undefined) request.toolChoice = choice;
  const tc = parsed.tool_choice;
  if (tc !== undefined && tc.type !== 'none' && tc.disable_parallel_tool_use === true) request.parallelToolCalls = false;
  return request;
}

function requireObject(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('bad_request', 'the request body must be a JSON object');
  }
}

export function parseMessagesRequest(value: unknown): ParsedMessagesRequest {
  requireObject(value);
  const result = body.safeParse(value);
  if (!result.success) throw invalid(result.error);
  return { model: result.data.model, stream: result.data.stream ?? false, request: toRequest(result.data) };
}

/** The count_tokens body; the request it returns generates nothing (max_tokens 0). */
export function parseCountTokensRequest(value: unknown): { model: string; request: ChatRequest } {
  requireObject(value);
  const result = countBody.safeParse(value);
  if (!result.success) throw invalid(result.error);
  const request = toRequest(result.data);
  request.sampling = { maxTokens: 0 };
  return { model: result.data.model, request };
}
