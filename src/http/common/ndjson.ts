/** Newline-delimited JSON streams (progress of pulls and pushes, Ollama-style responses). */
import type { Response } from 'express';
import { writeChunk } from './drain.js';

export interface NdjsonWriterOptions {
  /** Content-Type of the stream. Defaults to 'application/x-ndjson'. */
  contentType?: string;
  /**
   * HTML-escape each line, as Docker's progress streams do when served as text/plain (its CLI
   * unescapes them). Defaults to false.
   */
  htmlEscape?: boolean;
  /** HTTP status sent with the headers. Defaults to 200. */
  status?: number;
}

export interface NdjsonWriter {
  /** Writes one JSON line and flushes it; resolves once the socket can take more (backpressure). */
  write(value: unknown): Promise<void>;
  /** Ends the response; later writes are ignored. */
  end(): void;
  /** True once the response ended or the client went away. */
  readonly closed: boolean;
}

const HTML_ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;' };

/** The same characters Go's html.EscapeString replaces. */
export function escapeHtml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => HTML_ESCAPES[c]!);
}

export function createNdjsonWriter(res: Response, options: NdjsonWriterOptions = {}): NdjsonWriter {
  res.status(options.status ?? 200);
  res.setHeader('Content-Type', options.contentType ?? 'application/x-ndjson');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  const escape = options.htmlEscape ?? false;
  const isClosed = () => res.writableEnded || res.destroyed;

  return {
    write(value) {
      const line = JSON.stringify(value);
      return writeChunk(res, `${escape ? escapeHtml(line) : line}\n`);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    get closed() {
      return isClosed();
    },
  };
}
