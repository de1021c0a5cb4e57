/** Engine results -> the Responses API's response object and its output items. */
import { randomBytes } from 'node:crypto';
import type { FinishReason, ToolCall, Usage } from '../engine/types.js';
import type { InputItem } from './input-items.js';
import type { ParsedResponsesRequest } from './request.js';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export type MessageItem = {
  type: 'message';
  id: string;
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: Array<{ type: 'output_text'; text: string; annotations: []; logprobs: [] }>;
};
export type FunctionCallItem = { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'in_progress' | 'completed' };
/** A reasoning model's thinking, as its full text (no summary is made). */
export type ReasoningItem = {
  type: 'reasoning';
  id: string;
  summary: [];
  content: Array<{ type: 'reasoning_text'; text: string }>;
  status: 'in_progress' | 'completed' | 'incomplete';
};
export type OutputItem = ReasoningItem | MessageItem | FunctionCallItem;

/** Ids in OpenAI's style: a prefix, an underscore, random hex. */
export function newItemId(prefix: 'resp' | 'msg' | 'fc' | 'call' | 'rs'): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

/** What stays the same across a response's life: the identity and the echoed request. */
export interface ResponseHead {
  id: string;
  createdAt: number;
  model: string;
  previousResponseId: string | null;
  instructions: string | null;
  store: boolean;
  echo: ParsedResponsesRequest['echo'];
}

export function messageItem(id: string, text: string, status: MessageItem['status']): MessageItem {
  return { type: 'message', id, role: 'assistant', status, content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
}

export function reasoningItem(id: string, text: string, status: ReasoningItem['status']): ReasoningItem {
  return { type: 'reasoning', id, summary: [], content: [{ type: 'reasoning_text', text }], status };
}

export function functionCallItem(call: ToolCall, status: FunctionCallItem['status']): FunctionCallItem {
  return { type: 'function_call', id: newItemId('fc'), call_id: call.id, name: call.name, arguments: call.arguments, status };
}

/** A generation cut by max_output_tokens is incomplete; any other end is complete. */
export function statusFor(finishReason: FinishReason): 'completed' | 'incomplete' {
  return finishReason === 'length' ? 'incomplete' : 'completed';
}

export function responseUsage(usage: Usage) {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

export function buildResponse(head: ResponseHead, status: ResponseStatus, output: OutputItem[], usage: Usage | undefined): Record<string, unknown> {
  return {
    id: head.id,
    object: 'response',
    created_at: head.createdAt,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    model: head.model,
    output,
    usage: usage ? responseUsage(usage) : null,
    previous_response_id: head.previousResponseId,
    instructions: head.instructions,
    store: head.store,
    ...head.echo,
  };
}

/** The output items as input items, for the stored conversation a later turn continues. */
export function outputAsInput(output: OutputItem[]): InputItem[] {
  // Reasoning is left out, as templates leave out past reasoning.
  return output.flatMap((item): InputItem[] => {
    if (item.type === 'reasoning') return [];
    if (item.type === 'message') return [{ type: 'message', role: 'assistant', content: item.content.map((c) => c.text).join('') }];
    return [{ type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments }];
  });
}

/**
 * The output items of a whole generation: its reasoning (if any), its text as one message (if
 * any), then its calls (the engine has already held them to one when parallel calls are off).
 */
export function outputItems(text: string, toolCalls: ToolCall[], status: ResponseStatus, thinking = ''): OutputItem[] {
  const items: OutputItem[] = [];
  if (thinking !== '') items.push(reasoningItem(newItemId('rs'), thinking, 'completed'));
  if (text !== '' || toolCalls.length === 0) items.push(messageItem(newItemId('msg'), text, status === 'incomplete' ? 'incomplete' : 'completed'));
  for (const call of toolCalls) items.push(functionCallItem(call, 'completed'));
  return items;
}
