/**
 * Server-sent events: OpenAI's bare `data: <json>\n\n` frames ending with `data: [DONE]`, and the
 * named frames (`event: <name>` before the data) that the Anthropic and Responses streams use.
 */
import type { Response } from 'express';
import { writeChunk } from './drain.js';

export interface SseWriter {
  /** Writes one `data:` frame; resolves once the socket can take more (backpressure). */
  send(value: unknown): Promise<void>;
  /** Writes one frame named by an `event:` line; resolves as send does. */
  sendEvent(event: string, value: unknown): Promise<void>;
  /** Writes `data: [DONE]` and ends the response. */
  done(): void;
  /** Ends the response without [DONE] (after an error frame). */
  end(): void;
}

/** One named SSE frame. */
export function sseEventFrame(event: string, value: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(value)}\n\n`;
}

/** Sends the SSE headers at once so clients see the stream open before the first token. */
export function createSseWriter(res: Response): SseWriter {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  // Reverse proxies (nginx) would otherwise buffer the whole stream.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();

  return {
    send: (value) => writeChunk(res, `data: ${JSON.stringify(value)}\n\n`),
    sendEvent: (event, value) => writeChunk(res, sseEventFrame(event, value)),
    done() {
      if (res.writableEnded || res.destroyed) return;
      res.end('data: [DONE]\n\n');
    },
    end() {
      if (!res.writableEnded) res.end();
    },
  };
}
