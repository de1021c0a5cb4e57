/**
 * Streams progress events as Docker Model Runner does: one JSON object per line, flushed per
 * line. The body is application/json only when the client's Accept is exactly that; otherwise it
 * is text/plain and each line is HTML-escaped (Docker's CLI unescapes it again).
 */
import type { Request, Response } from 'express';
import type { ProgressEvent } from '../../models/index.js';
import { writeChunk } from './drain.js';

const GO_HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
};

/** Go's html.EscapeString: exactly these five characters, with these spellings. */
export function escapeHtml(text: string): string {
  return text.replace(/[&'<>"]/g, (c) => GO_HTML_ESCAPES[c]!);
}

/** Docker compares the header verbatim: "application/json; q=1" or a list gets text. */
export function wantsJson(req: Request): boolean {
  return req.get('accept') === 'application/json';
}

/** One progress event as the line Docker writes (newline included). */
export function formatProgressLine(event: ProgressEvent, json: boolean): string {
  const line = JSON.stringify(event);
  return `${json ? line : escapeHtml(line)}\n`;
}

/**
 * Writes headers lazily, on the first event, so that an error before any progress can still be
 * answered with its own status as plain text.
 */
export class ProgressStream {
  private readonly json: boolean;
  private opened = false;

  constructor(
    req: Request,
    private readonly res: Response,
  ) {
    this.json = wantsJson(req);
  }

  /** True once the status line and the first event have gone out. */
  get started(): boolean {
    return this.opened || this.res.headersSent;
  }

  /** Writes one line; resolves when the socket can take more (see writeChunk for a client that stops reading). */
  write(event: ProgressEvent): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return Promise.resolve();
    if (!this.opened) {
      this.opened = true;
      this.res.status(200);
      this.res.setHeader('Content-Type', this.json ? 'application/json' : 'text/plain; charset=utf-8');
      this.res.setHeader('Cache-Control', 'no-cache');
      this.res.setHeader('X-Content-Type-Options', 'nosniff');
      this.res.flushHeaders();
    }
    // Node sends each write as its own chunk at once (no compression here), which is the flush.
    return writeChunk(this.res, formatProgressLine(event, this.json));
  }

  /**
   * Ends the stream with an error line, as Docker does once the status is already 200. `code` is
   * our stable error code (Docker's line has none), for clients that act on the kind of failure.
   */
  fail(message: string, code?: string): void {
    void this.write({ type: 'error', message: `Error: ${message}`, ...(code === undefined ? {} : { code }) });
    this.end();
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
