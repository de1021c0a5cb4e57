/** Streams one OpenAI chat completion and hands its text to the caller as it arrives. */
import { AppError } from '../../errors.js';
import type { ModelRunnerClient } from './client.js';
import { readSseData } from './sse.js';

export const CHAT_PATH = '/engines/v1/chat/completions';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface StreamChatOptions {
  /** Receives each piece of the answer's content. */
  onContent: (text: string) => void;
  /** Receives each piece of reasoning ("thinking") text, when the model emits any. Defaults to dropping it. */
  onReasoning?: (text: string) => void;
  /** Cancels the request (Ctrl-C in the REPL). Defaults to none. */
  signal?: AbortSignal;
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null } }>;
  error?: { message?: string } | string;
}

/** Sends the conversation with `stream: true`; resolves with the whole answer's content. */
export async function streamChat(client: ModelRunnerClient, model: string, messages: ChatMessage[], options: StreamChatOptions): Promise<string> {
  const res = await client.request(CHAT_PATH, {
    method: 'POST',
    json: { model, messages, stream: true },
    headers: { Accept: 'text/event-stream' },
    signal: options.signal,
  });
  let answer = '';
  for await (const data of readSseData(res)) {
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      throw new AppError('upstream', `the server sent an unreadable stream event: ${data.slice(0, 200)}`);
    }
    if (chunk.error !== undefined) {
      const message = typeof chunk.error === 'string' ? chunk.error : chunk.error.message;
      throw new AppError('upstream', message ?? 'the server reported an error while generating');
    }
    const delta = chunk.choices?.[0]?.delta;
    if (delta?.reasoning_content) options.onReasoning?.(delta.reasoning_content);
    if (delta?.content) {
      answer += delta.content;
      options.onContent(delta.content);
    }
  }
  return answer;
}

/** Loads the model and nothing else (`run --detach`): the server answers once it is resident. */
export async function preloadModel(client: ModelRunnerClient, model: string): Promise<void> {
  await client.text(CHAT_PATH, { method: 'POST', json: { model, messages: [] }, headers: { 'X-Preload-Only': 'true' } });
}
