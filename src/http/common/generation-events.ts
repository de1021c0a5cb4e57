/**
 * Reading one generation's events, whole or as a stream. The OpenAI and the Ollama routes read
 * them the same way and differ only in how they word the answer (JSON, SSE or NDJSON).
 */
import type { FinishReason, GenerateEvent, Timings, TokenLogprob, ToolCall, Usage } from '../../engine/types.js';
import { AppError } from '../../errors.js';

/** What the engine's `done` event reports. */
export interface Finished {
  finishReason: FinishReason;
  usage: Usage;
  timings: Timings;
  /** The request's stop sequence that ended the text, when one did. */
  stopSequence?: string;
}

/** A generation whose events ended without `done`: the Worker broke its own protocol. */
function missingDone(): AppError {
  return new AppError('internal', 'the model stopped without reporting the end of the generation');
}

export interface CollectedGeneration {
  text: string;
  /** The reasoning the engine sent apart from the text ('' when none). */
  thinking: string;
  toolCalls: ToolCall[];
  finished: Finished;
  /** The text's token entries, in order (empty when the request asked for none). */
  logprobs: TokenLogprob[];
}

/**
 * Reads every event into one text and one list of tool calls. Resolves undefined when `signal`
 * aborted (nobody is left to answer); throws missingDone() when the events never said `done`.
 */
export async function collectGeneration(events: AsyncIterable<GenerateEvent>, signal: AbortSignal): Promise<CollectedGeneration | undefined> {
  let text = '';
  let thinking = '';
  const toolCalls: ToolCall[] = [];
  const logprobs: TokenLogprob[] = [];
  let finished: Finished | undefined;
  for await (const event of events) {
    if (event.type === 'text') {
      text += event.text;
      if (event.logprobs) logprobs.push(...event.logprobs);
    } else if (event.type === 'thinking') thinking += event.text;
    else if (event.type === 'tool_calls') toolCalls.push(...event.calls);
    else finished = event;
  }
  if (signal.aborted) return undefined;
  if (!finished) throw missingDone();
  return { text, thinking, toolCalls, finished, logprobs };
}

/** Where a streamed generation goes: the SSE or NDJSON wording of one route. */
export interface GenerationSink {
  /** Sends what precedes the first event, if anything (OpenAI's role chunk). */
  start?(): Promise<void>;
  /** Sends one event, `done` included (it may carry usage). */
  event(event: GenerateEvent): Promise<void>;
  /** Sends the end of a generation that finished. */
  end(finished: Finished): Promise<void>;
  /** Reports an error inside the stream, since the status has already gone out. */
  fail(error: unknown): Promise<void>;
}

/**
 * Streams `events` to the sink that `open` creates. Resolves with the end of the generation, or
 * undefined when `signal` aborted or the stream ended in an error (already reported to the sink).
 */
export async function streamGeneration(
  events: AsyncIterable<GenerateEvent>,
  signal: AbortSignal,
  open: () => GenerationSink,
): Promise<Finished | undefined> {
  const iterator = events[Symbol.asyncIterator]();
  // Wait for the first event before committing to a 200: a prompt that does not fit the
  // context fails here and still gets its proper status.
  let next = await iterator.next();
  const sink = open();
  let finished: Finished | undefined;
  try {
    await sink.start?.();
    while (!next.done && !signal.aborted) {
      await sink.event(next.value);
      if (next.value.type === 'done') finished = next.value;
      next = await iterator.next();
    }
    if (signal.aborted) return undefined;
    if (!finished) throw missingDone();
    await sink.end(finished);
    return finished;
  } catch (err) {
    if (!signal.aborted) await sink.fail(err);
    return undefined;
  } finally {
    // Stops the engine's generator when we leave early (client gone or an error).
    if (!next.done) await iterator.return?.().catch(() => undefined);
  }
}
