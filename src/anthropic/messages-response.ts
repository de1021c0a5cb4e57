/** Engine results -> Anthropic Messages responses: the whole message and the stream's events. */
import { randomBytes } from 'node:crypto';
import type { FinishReason, GenerateEvent, ToolCall, Usage } from '../engine/types.js';

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

/**
 * A thinking block's `signature` lets Anthropic's API check thinking sent back to it; a local
 * model has nothing to sign, so it is empty (clients keep and resend it as an opaque string).
 */
export type ContentBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface MessageMeta {
  id: string;
  model: string;
}

export function newMessageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

export function toAnthropicUsage(usage: Usage): AnthropicUsage {
  const cached = usage.cachedTokens ?? 0;
  // Anthropic's input_tokens excludes tokens read from the cache.
  return { input_tokens: usage.promptTokens - cached, output_tokens: usage.completionTokens, cache_read_input_tokens: cached, cache_creation_input_tokens: 0 };
}

/** The engine says 'stop' for the model's own end and for a stop sequence alike; the sequence it names tells them apart. */
export function toStopReason(reason: FinishReason, stopSequence: string | null): StopReason {
  if (reason === 'length') return 'max_tokens';
  if (reason === 'tool_calls') return 'tool_use';
  return stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

/** Tool arguments are JSON text; Anthropic's input is the object itself. */
export function toolInput(call: ToolCall): unknown {
  try {
    return JSON.parse(call.arguments);
  } catch {
    return {};
  }
}

export function toolUseId(call: ToolCall): string {
  return call.id.startsWith('toolu_') ? call.id : `toolu_${call.id.replace(/[^A-Za-z0-9_-]/g, '') || randomBytes(8).toString('hex')}`;
}

export interface CollectedMessage {
  text: string;
  /** Reasoning the engine split off the answer; a thinking block first when not empty. Defaults to none. */
  thinking?: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  stopSequence?: string | null;
}

export function buildMessage(meta: MessageMeta, collected: CollectedMessage) {
  const content: ContentBlock[] = [];
  if (collected.thinking) content.push({ type: 'thinking', thinking: collected.thinking, signature: '' });
  if (collected.text !== '' || collected.toolCalls.length === 0) content.push({ type: 'text', text: collected.text });
  for (const call of collected.toolCalls) content.push({ type: 'tool_use', id: toolUseId(call), name: call.name, input: toolInput(call) });
  const stopSequence = collected.stopSequence ?? null;
  return {
    id: meta.id,
    type: 'message' as const,
    role: 'assistant' as const,
    model: meta.model,
    content,
    stop_reason: toStopReason(collected.finishReason, stopSequence),
    stop_sequence: stopSequence,
    usage: toAnthropicUsage(collected.usage),
  };
}

/** One SSE event of Anthropic's stream: its `event:` name and its data. */
export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/**
 * Turns engine events into Anthropic's stream: message_start, ping, then for each content block
 * content_block_start / deltas / content_block_stop, then message_delta and message_stop.
 */
export class MessageEventStream {
  private index = -1;
  /** The kind of the block now open (text and thinking stream in deltas), if any. */
  private open: 'text' | 'thinking' | undefined;

  constructor(private readonly meta: MessageMeta) {}

  start(): StreamEvent[] {
    const message = { id: this.meta.id, type: 'message', role: 'assistant', model: this.meta.model, content: [], stop_reason: null, stop_sequence: null, usage: toAnthropicUsage({ promptTokens: 0, completionTokens: 0 }) };
    return [
      { event: 'message_start', data: { type: 'message_start', message } },
      { event: 'ping', data: { type: 'ping' } },
    ];
  }

  push(event: GenerateEvent): StreamEvent[] {
    if (event.type === 'text' || event.type === 'thinking') {
      if (event.text === '') return [];
      const out: StreamEvent[] = [];
      if (this.open !== event.type) {
        out.push(...this.closeText());
        this.index += 1;
        this.open = event.type;
        const block = event.type === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
        out.push({ event: 'content_block_start', data: { type: 'content_block_start', index: this.index, content_block: block } });
      }
      const delta = event.type === 'text' ? { type: 'text_delta', text: event.text } : { type: 'thinking_delta', thinking: event.text };
      out.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: this.index, delta } });
      return out;
    }
    if (event.type === 'tool_calls') {
      const out = this.closeText();
      for (const call of event.calls) {
        this.index += 1;
        const index = this.index;
        out.push(
          { event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolUseId(call), name: call.name, input: {} } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(toolInput(call)) } } },
          { event: 'content_block_stop', data: { type: 'content_block_stop', index } },
        );
      }
      return out;
    }
    const out = this.closeText();
    if (this.index === -1) {
      // A message always has at least one block, even an empty text one.
      out.push(
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
      );
      this.index = 0;
    }
    const usage = toAnthropicUsage(event.usage);
    const stopSequence = event.stopSequence ?? null;
    out.push(
      {
        event: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: toStopReason(event.finishReason, stopSequence), stop_sequence: stopSequence }, usage: { ...usage } },
      },
      { event: 'message_stop', data: { type: 'message_stop' } },
    );
    return out;
  }

  private closeText(): StreamEvent[] {
    if (this.open === undefined) return [];
    const closing = this.open;
    this.open = undefined;
    // A thinking block ends with its (empty) signature, as the API sends one before content_block_stop.
    const signature: StreamEvent[] =
      closing === 'thinking' ? [{ event: 'content_block_delta', data: { type: 'content_block_delta', index: this.index, delta: { type: 'signature_delta', signature: '' } } }] : [];
    return [...signature, { event: 'content_block_stop', data: { type: 'content_block_stop', index: this.index } }];
  }
}
