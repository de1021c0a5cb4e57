/**
 * A minimal OpenAI-compatible streaming client over node:http, for measuring servers: it
 * posts one chat completion with `stream: true`, parses the SSE reply and records when each
 * piece arrived. It never throws for server or network failures; they come back as an outcome
 * with `ok: false`, so the benchmark can count them.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './endpoint.js';
import { SseParser } from './sse-parser.js';

/** Token counts as OpenAI's `usage` object reports them. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

/** llama-server's per-request `timings` object (sent in the last streamed chunk). */
export interface ServerTimings {
  prompt_n?: number;
  prompt_ms?: number;
  prompt_per_second?: number;
  predicted_n?: number;
  predicted_ms?: number;
  predicted_per_second?: number;
  cache_n?: number;
}

/** What one streamed request produced; all times are performance.now() milliseconds. */
export interface StreamOutcome {
  ok: boolean;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  error?: string;
  startMs: number;
  /** The first chunk that carried generated text. */
  firstTokenMs?: number;
  /** The last chunk that carried generated text. */
  lastTokenMs?: number;
  /** The chunk that carried `finish_reason`, i.e. when generation ended. */
  finishMs?: number;
  endMs: number;
  /** Chunks that carried generated text: the token count when the server sends no usage. */
  contentChunks: number;
  usage?: Usage;
  timings?: ServerTimings;
  finishReason?: string;
  /** How often the request was sent again after the connection was dropped before any reply. */
  retries?: number;
}

export interface StreamRequestOptions {
  /** Connection pool to reuse; one per benchmark level keeps connections warm. Defaults to a fresh connection. */
  agent?: http.Agent;
  /** Cancels the request. Defaults to none. */
  signal?: AbortSignal;
  /** Extra request headers, e.g. authorization. Defaults to none. */
  headers?: Record<string, string>;
}

interface ChunkChoice {
  delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: unknown[] };
  text?: string;
  finish_reason?: string | null;
}

interface StreamChunk {
  choices?: ChunkChoice[];
  usage?: Usage | null;
  timings?: ServerTimings;
  error?: { message?: string } | string;
}

/** True when a choice carries generated output (text, reasoning or a tool-call fragment). */
function carriesToken(choice: ChunkChoice): boolean {
  const d = choice.delta;
  return Boolean(d?.content || d?.reasoning_content || (d?.tool_calls && d.tool_calls.length > 0) || choice.text);
}

function errorText(error: StreamChunk['error']): string {
  return typeof error === 'string' ? error : error?.message ?? JSON.stringify(error);
}

/** Posts `body` (stream is forced on) to `<base>/chat/completions` and measures the stream. */
export function streamChatCompletion(endpoint: Endpoint, body: Record<string, unknown>, options: StreamRequestOptions = {}): Promise<StreamOutcome> {
  const payload = JSON.stringify({ ...body, stream: true });
  const outcome: StreamOutcome = { ok: false, status: 0, startMs: performance.now(), endMs: 0, contentChunks: 0 };
  const target = endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };

  return new Promise((resolve) => {
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      outcome.endMs = performance.now();
      if (error !== undefined) outcome.error = error;
      outcome.ok = outcome.error === undefined;
      resolve(outcome);
    };

    const onChunk = (data: string) => {
      if (data === '[DONE]') return;
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(data) as StreamChunk;
      } catch {
        outcome.error ??= `unparsable SSE data: ${data.slice(0, 200)}`;
        return;
      }
      const now = performance.now();
      if (chunk.error !== undefined) outcome.error ??= errorText(chunk.error);
      for (const choice of chunk.choices ?? []) {
        if (carriesToken(choice)) {
          outcome.firstTokenMs ??= now;
          outcome.lastTokenMs = now;
          outcome.contentChunks++;
        }
        if (choice.finish_reason) {
          outcome.finishReason = choice.finish_reason;
          outcome.finishMs ??= now;
        }
      }
      if (chunk.usage) outcome.usage = chunk.usage;
      if (chunk.timings) outcome.timings = chunk.timings;
    };

    // A non-streamed reply carries `message` instead of `delta`; its one arrival is the first token.
    const onWholeReply = (text: string) => {
      try {
        const reply = JSON.parse(text) as { choices?: Array<{ message?: ChunkChoice['delta'] } & ChunkChoice> };
        onChunk(JSON.stringify({ ...reply, choices: (reply.choices ?? []).map((c) => ({ ...c, delta: c.message })) }));
      } catch {
        outcome.error ??= `unparsable reply: ${text.slice(0, 200)}`;
      }
    };

    const req = http.request(
      {
        ...target,
        method: 'POST',
        path: `${endpoint.basePath}/chat/completions`,
        agent: options.agent,
        signal: options.signal,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          accept: 'text/event-stream',
          ...options.headers,
        },
      },
      (res) => {
        outcome.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        const contentType = String(res.headers['content-type'] ?? '');
        if (outcome.status !== 200 || !contentType.includes('text/event-stream')) {
          // An error reply, or a server that ignored `stream`: read the body whole.
          let text = '';
          res.on('data', (s: string) => (text += s));
          res.on('end', () => {
            if (outcome.status !== 200) return finish(`HTTP ${outcome.status}: ${text.slice(0, 300)}`);
            onWholeReply(text);
            finish();
          });
          res.on('error', (err) => finish(err.message));
          res.on('close', () => finish('the connection closed before the reply ended'));
          return;
        }
        const parser = new SseParser();
        res.on('data', (s: string) => {
          for (const event of parser.push(s)) onChunk(event.data);
        });
        res.on('end', () => {
          for (const event of parser.end()) onChunk(event.data);
          finish();
        });
        res.on('error', (err) => finish(err.message));
        // 'close' without 'end' means the connection broke mid-stream; after 'end' this is a no-op.
        res.on('close', () => finish('the connection closed before the stream ended'));
      },
    );
    req.on('error', (err) => finish(err.message));
    req.end(payload);
  });
}

/** Times a request whose connection was dropped before any reply is sent again. */
const MAX_CONNECTION_RETRIES = 2;

/** A request that failed before any response arrived, with the connection reset or dropped. */
function isDroppedConnection(outcome: StreamOutcome): boolean {
  return !outcome.ok && outcome.status === 0 && /socket hang up|ECONNRESET|EPIPE/.test(outcome.error ?? '');
}

/**
 * streamChatCompletion, sent again (at most twice, counted in `retries`) when the connection was
 * dropped before any reply: llama-server's HTTP layer sometimes drops a fresh connection before
 * reading the request, which says nothing about inference. `options` is called per attempt (a
 * fresh timeout each). Any other failure is returned as it is.
 */
export async function streamChatCompletionResent(endpoint: Endpoint, body: Record<string, unknown>, options: () => StreamRequestOptions = () => ({})): Promise<StreamOutcome> {
  let outcome = await streamChatCompletion(endpoint, body, options());
  for (let attempt = 0; attempt < MAX_CONNECTION_RETRIES && isDroppedConnection(outcome); attempt++) {
    outcome = await streamChatCompletion(endpoint, body, options());
    outcome.retries = attempt + 1;
  }
  return outcome;
}
