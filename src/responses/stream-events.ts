/**
 * Engine events -> the Responses API's typed stream events, in the order openai-node's stream
 * accumulator insists on: created, in_progress, then per item added -> parts -> deltas -> done,
 * then completed (or incomplete) carrying the whole output.
 */
import type { GenerateEvent, Usage } from '../engine/types.js';
import { buildResponse, functionCallItem, messageItem, newItemId, type OutputItem, reasoningItem, type ResponseHead, statusFor } from './response.js';

export type StreamEvent = { type: string; sequence_number: number } & Record<string, unknown>;

export class ResponseEventStream {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  /** The message item receiving text, while one is open. */
  private message: { id: string; index: number; text: string } | undefined;
  /** The reasoning item receiving thinking, while one is open. */
  private reasoning: { id: string; index: number; text: string } | undefined;

  constructor(private readonly head: ResponseHead) {}

  /** The items streamed so far, final once the stream finished. */
  get items(): OutputItem[] {
    return this.output;
  }

  start(): StreamEvent[] {
    const response = buildResponse(this.head, 'in_progress', [], undefined);
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  push(event: GenerateEvent): StreamEvent[] {
    if (event.type === 'thinking') return this.thinking(event.text);
    if (event.type === 'text') return [...this.closeReasoning('completed'), ...this.text(event.text)];
    // parallel_tool_calls: false is the engine's to hold (toEngineRequest asks for it).
    if (event.type === 'tool_calls') return event.calls.flatMap((call) => this.call(call));
    return this.finish(statusFor(event.finishReason), event.usage);
  }

  private thinking(delta: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (!this.reasoning) {
      this.reasoning = { id: newItemId('rs'), index: this.output.length, text: '' };
      this.output.push(reasoningItem(this.reasoning.id, '', 'in_progress'));
      events.push(this.event('response.output_item.added', { output_index: this.reasoning.index, item: { ...reasoningItem(this.reasoning.id, '', 'in_progress'), content: [] } }));
      events.push(this.event('response.content_part.added', { ...this.reasoningIds(), part: { type: 'reasoning_text', text: '' } }));
    }
    this.reasoning.text += delta;
    events.push(this.event('response.reasoning_text.delta', { ...this.reasoningIds(), delta }));
    return events;
  }

  private closeReasoning(status: 'completed' | 'incomplete'): StreamEvent[] {
    const open = this.reasoning;
    if (!open) return [];
    const ids = this.reasoningIds();
    this.reasoning = undefined;
    const item = reasoningItem(open.id, open.text, status);
    this.output[open.index] = item;
    return [
      this.event('response.reasoning_text.done', { ...ids, text: open.text }),
      this.event('response.content_part.done', { ...ids, part: item.content[0] }),
      this.event('response.output_item.done', { output_index: open.index, item }),
    ];
  }

  private reasoningIds() {
    return { item_id: this.reasoning!.id, output_index: this.reasoning!.index, content_index: 0 };
  }

  private text(delta: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (!this.message) {
      this.message = { id: newItemId('msg'), index: this.output.length, text: '' };
      const item = { ...messageItem(this.message.id, '', 'in_progress'), content: [] };
      this.output.push(messageItem(this.message.id, '', 'in_progress'));
      events.push(this.event('response.output_item.added', { output_index: this.message.index, item }));
      events.push(this.event('response.content_part.added', { ...this.ids(), part: { type: 'output_text', text: '', annotations: [] } }));
    }
    this.message.text += delta;
    events.push(this.event('response.output_text.delta', { ...this.ids(), delta, logprobs: [] }));
    return events;
  }

  private closeMessage(status: 'completed' | 'incomplete'): StreamEvent[] {
    const open = this.message;
    if (!open) return [];
    this.message = undefined;
    const item = messageItem(open.id, open.text, status);
    this.output[open.index] = item;
    const ids = { item_id: open.id, output_index: open.index, content_index: 0 };
    return [
      this.event('response.output_text.done', { ...ids, text: open.text, logprobs: [] }),
      this.event('response.content_part.done', { ...ids, part: item.content[0] }),
      this.event('response.output_item.done', { output_index: open.index, item }),
    ];
  }

  private call(call: Parameters<typeof functionCallItem>[0]): StreamEvent[] {
    const events = [...this.closeReasoning('completed'), ...this.closeMessage('completed')];
    const item = functionCallItem(call, 'completed');
    const index = this.output.length;
    this.output.push(item);
    const ids = { item_id: item.id, output_index: index };
    events.push(this.event('response.output_item.added', { output_index: index, item: { ...item, arguments: '', status: 'in_progress' } }));
    events.push(this.event('response.function_call_arguments.delta', { ...ids, delta: item.arguments }));
    events.push(this.event('response.function_call_arguments.done', { ...ids, name: item.name, arguments: item.arguments }));
    events.push(this.event('response.output_item.done', { output_index: index, item }));
    return events;
  }

  private finish(status: 'completed' | 'incomplete', usage: Usage): StreamEvent[] {
    const events = [...this.closeReasoning(status), ...this.closeMessage(status)];
    // A generation that produced nothing still answers with one (empty) message, as the JSON form does.
    if (!this.output.some((item) => item.type !== 'reasoning')) events.push(...this.text(''), ...this.closeMessage(status));
    const response = buildResponse(this.head, status, this.output, usage);
    this.final = response;
    events.push(this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
    return events;
  }

  /** The final response object, once the `done` event has been pushed. */
  final: Record<string, unknown> | undefined;

  /** An error inside the stream, after the status has gone out. */
  error(code: string, message: string): StreamEvent {
    return this.event('error', { code, message, param: null });
  }

  private ids() {
    return { item_id: this.message!.id, output_index: this.message!.index, content_index: 0 };
  }

  private event(type: string, fields: Record<string, unknown>): StreamEvent {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}
