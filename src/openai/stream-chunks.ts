/**
 * Streaming translation: engine GenerateEvents -> chat.completion.chunk / text_completion chunks,
 * in the order OpenAI clients expect: a role delta first, content or tool-call deltas, a chunk
 * with finish_reason and an empty delta, then (with include_usage) a chunk with no choices and
 * the usage. The SSE framing and [DONE] belong to the HTTP layer.
 */
import type { GenerateEvent } from '../engine/types.js';
import {
  metaFields,
  type OpenAIFinishReason,
  type OpenAIUsage,
  type ResponseMeta,
  toOpenAIFinishReason,
  toOpenAIUsage,
} from './chat-response.js';
import { type ChatLogprobs, type CompletionLogprobs, toChatLogprobs, toCompletionLogprobs } from './logprobs.js';

export interface ChatDelta {
  role?: 'assistant';
  content?: string;
  /** The model's reasoning, apart from `content` (llama-server's reasoning_format deepseek). */
  reasoning_content?: string;
  tool_calls?: Array<{ index: number; id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string;
  /** `logprobs` holds the entries of the chunk's own tokens when the request asked for them. */
  choices: Array<{ index: number; delta: ChatDelta; finish_reason: OpenAIFinishReason | null; logprobs: ChatLogprobs | null }>;
  /** Present (null until the last chunk) only when the client asked for include_usage, as OpenAI does. */
  usage?: OpenAIUsage | null;
}

export interface TextCompletionChunk {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{ index: number; text: string; finish_reason: OpenAIFinishReason | null; logprobs: CompletionLogprobs | null }>;
  usage?: OpenAIUsage | null;
}

export interface ChunkStreamOptions {
  /** Append a usage-only chunk after the finish chunk. Defaults to false. */
  includeUsage?: boolean;
  /** The choice these chunks belong to (`n` > 1 streams the choices one after another). Defaults to 0. */
  index?: number;
}

export class ChatChunkStream {
  private readonly includeUsage: boolean;
  private readonly index: number;
  /** OpenAI numbers tool calls across the whole response, not per chunk. */
  private nextToolIndex = 0;

  constructor(
    private readonly meta: ResponseMeta,
    options: ChunkStreamOptions = {},
  ) {
    this.includeUsage = options.includeUsage ?? false;
    this.index = options.index ?? 0;
  }

  private chunk(delta: ChatDelta, finishReason: OpenAIFinishReason | null = null, logprobs: ChatLogprobs | null = null): ChatCompletionChunk {
    return {
      ...metaFields(this.meta, 'chat.completion.chunk'),
      choices: [{ index: this.index, delta, finish_reason: finishReason, logprobs }],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }

  /** The opening chunk that announces the assistant role. */
  start(): ChatCompletionChunk {
    return this.chunk({ role: 'assistant', content: '' });
  }

  /** The chunks one engine event becomes (none for an empty text event). */
  push(event: GenerateEvent): ChatCompletionChunk[] {
    switch (event.type) {
      case 'text':
        // An empty text still carries the entry of a token whose text a stop string swallowed.
        if (event.text === '' && !event.logprobs?.length) return [];
        return [this.chunk({ content: event.text }, null, event.logprobs ? toChatLogprobs(event.logprobs) : null)];
      case 'thinking':
        return event.text === '' ? [] : [this.chunk({ reasoning_content: event.text })];
      case 'tool_calls':
        return event.calls.map((call) =>
          this.chunk({
            tool_calls: [
              { index: this.nextToolIndex++, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } },
            ],
          }),
        );
      case 'done': {
        const chunks = [this.chunk({}, toOpenAIFinishReason(event.finishReason))];
        if (this.includeUsage) {
          chunks.push({ ...metaFields(this.meta, 'chat.completion.chunk'), choices: [], usage: toOpenAIUsage(event.usage) });
        }
        return chunks;
      }
    }
  }
}

export class TextChunkStream {
  private readonly includeUsage: boolean;
  private readonly index: number;
  /** Characters of text sent so far: the text_offset of the next chunk's first token. */
  private sent = 0;

  constructor(
    private readonly meta: ResponseMeta,
    options: ChunkStreamOptions = {},
  ) {
    this.includeUsage = options.includeUsage ?? false;
    this.index = options.index ?? 0;
  }

  private chunk(text: string, finishReason: OpenAIFinishReason | null = null, logprobs: CompletionLogprobs | null = null): TextCompletionChunk {
    return {
      ...metaFields(this.meta, 'text_completion'),
      choices: [{ index: this.index, text, finish_reason: finishReason, logprobs }],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }

  /** Completions have no tool calls; such events are dropped rather than invented into text. */
  push(event: GenerateEvent): TextCompletionChunk[] {
    switch (event.type) {
      case 'text': {
        if (event.text === '' && !event.logprobs?.length) return [];
        const logprobs = event.logprobs ? toCompletionLogprobs(event.logprobs, this.sent) : null;
        this.sent += event.text.length;
        return [this.chunk(event.text, null, logprobs)];
      }
      case 'thinking':
      case 'tool_calls':
        return [];
      case 'done': {
        const chunks = [this.chunk('', toOpenAIFinishReason(event.finishReason))];
        if (this.includeUsage) {
          chunks.push({ ...metaFields(this.meta, 'text_completion'), choices: [], usage: toOpenAIUsage(event.usage) });
        }
        return chunks;
      }
    }
  }
}
