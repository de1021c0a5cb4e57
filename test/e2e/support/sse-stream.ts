/**
 * A streaming request (SSE or NDJSON) read as it arrives, so that a test can act while the stream
 * runs: wait for its first frame, cut it, or see whether it has ended at a given moment.
 */
import type http from 'node:http';
import { openRequest, sseData, type RequestOptions } from '../../support/http-client.js';

export interface LiveStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Resolves once the first frame has arrived (or the stream ended without one). */
  started: Promise<void>;
  /** Resolves with every frame once the stream ends, cleanly or cut. */
  ended: Promise<string[]>;
  /** Whether the stream has ended, read at the moment of asking. */
  readonly finished: boolean;
  /** Whether the body ended as HTTP says it should (false when the connection was cut). */
  readonly complete: boolean;
  /** Cuts the connection, as a client that goes away does. */
  destroy(): void;
}

/** SSE frames are the `data:` payloads; NDJSON frames are the non-empty lines. */
export type FrameFormat = 'sse' | 'ndjson';

async function* ndjsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of stream) {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line !== '') yield line;
    }
  }
  if (buffer.trim() !== '') yield buffer.trim();
}

export async function openStream(socketPath: string, urlPath: string, options: RequestOptions, format: FrameFormat = 'sse'): Promise<LiveStream> {
  const { req, res } = await openRequest(socketPath, urlPath, options);
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const state = { finished: false, complete: false };
  const ended = (async () => {
    const frames: string[] = [];
    try {
      for await (const frame of format === 'sse' ? sseData(res) : ndjsonLines(res)) {
        frames.push(frame);
        markStarted();
      }
      state.complete = res.complete;
    } catch {
      // A cut connection ends the body with an error; the frames so far are the answer.
    }
    markStarted(); // a stream that ended without a frame must not leave a test waiting forever
    state.finished = true;
    return frames;
  })();
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    started,
    ended,
    get finished() {
      return state.finished;
    },
    get complete() {
      return state.complete;
    },
    destroy: () => req.destroy(),
  };
}
