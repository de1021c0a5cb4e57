/**
 * The one place a request's `parallelToolCalls: false` is enforced: every dialect translates its
 * own switch (OpenAI's and Ollama's parallel_tool_calls, Anthropic's disable_parallel_tool_use,
 * the Responses' parallel_tool_calls) into the engine request, and the engine passes at most one
 * call through however its calls were generated.
 */
import type { ChatRequest, GenerateEvent, GenerateRequest, ToolCall } from './types.js';

/** The most tool calls one answer to `request` may carry. */
export function toolCallLimit(request: Pick<ChatRequest, 'parallelToolCalls'>): number {
  return request.parallelToolCalls === false ? 1 : Number.POSITIVE_INFINITY;
}

/** Counts the calls of one answer and lets through only those within its limit. */
export class ToolCallLimiter {
  private passed = 0;

  constructor(private readonly limit: number) {}

  /** The calls of `calls` that still fit, in order; an empty list once the limit is reached. */
  take(calls: readonly ToolCall[]): ToolCall[] {
    const room = Math.max(0, this.limit - this.passed);
    const kept = calls.slice(0, room);
    this.passed += kept.length;
    return kept;
  }
}

/**
 * Wraps an answer's event sink so that its tool_calls events carry no more calls than the
 * request allows; an event left with no call is dropped.
 */
export function limitToolCallEvents(request: GenerateRequest, emit: (event: GenerateEvent) => void): (event: GenerateEvent) => void {
  if (request.kind !== 'chat' || toolCallLimit(request) === Number.POSITIVE_INFINITY) return emit;
  const limiter = new ToolCallLimiter(toolCallLimit(request));
  return (event) => {
    if (event.type !== 'tool_calls') return emit(event);
    const calls = limiter.take(event.calls);
    if (calls.length > 0) emit({ ...event, calls });
  };
}
