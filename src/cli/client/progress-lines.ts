/**
 * Pull/push/load progress as Docker Model Runner streams it: one JSON object per line. When the
 * server answers text/plain (any Accept other than exactly application/json) each line is
 * HTML-escaped the way Go's html.EscapeString does, and must be unescaped before parsing.
 */
import type { IncomingMessage } from 'node:http';
import { AppError } from '../../errors.js';
import { readLines } from './lines.js';

export interface ProgressLayer {
  id: string;
  size: number;
  current: number;
}

/** One line of the stream; fields other than `type` and `message` may be absent. */
export interface ProgressMessage {
  type: 'progress' | 'success' | 'warning' | 'error' | string;
  message: string;
  /** Sum of all layer sizes. */
  total?: number;
  layer?: ProgressLayer;
  mode?: 'pull' | 'push' | string;
  /** The model ID, on /models/load's success line. */
  id?: string;
  /** The server's stable error code, on an error line. */
  code?: string;
}

const HTML_ENTITIES: Record<string, string> = {
  '&#34;': '"',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
};

/** Reverses Go's html.EscapeString (one pass, so "&amp;lt;" becomes "&lt;", not "<"). */
export function unescapeHtml(text: string): string {
  return text.replace(/&(?:#34|quot|#39|amp|lt|gt);/g, (entity) => HTML_ENTITIES[entity]!);
}

/**
 * Parses one line. `escaped` says the body was text/plain. Blank lines give undefined; a line that
 * is not a JSON object is a server that failed after the stream began (Go handlers append plain
 * text), so it becomes an error message rather than a crash.
 */
export function parseProgressLine(line: string, escaped: boolean): ProgressMessage | undefined {
  const text = (escaped ? unescapeHtml(line) : line).trim();
  if (text === '') return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as ProgressMessage).type === 'string') {
      const message = value as ProgressMessage;
      return { ...message, message: typeof message.message === 'string' ? message.message : '' };
    }
  } catch {
    // Fall through: plain text from the server.
  }
  return { type: 'error', message: text };
}

/** Whether a response's body is the HTML-escaped text/plain variant. */
export function isEscapedBody(res: IncomingMessage): boolean {
  const type = String(res.headers['content-type'] ?? '').toLowerCase();
  return !type.startsWith('application/json') && !type.startsWith('application/x-ndjson');
}

/** Yields the messages of a progress response in order. */
export async function* readProgress(res: IncomingMessage): AsyncGenerator<ProgressMessage> {
  const escaped = isEscapedBody(res);
  for await (const line of readLines(res)) {
    const message = parseProgressLine(line, escaped);
    if (message) yield message;
  }
}

/**
 * Follows a progress stream to its end: `onProgress` sees every non-final message, and the
 * success message is returned. An error line, or a stream that ends without a verdict, throws.
 */
export async function followProgress(res: IncomingMessage, onProgress: (message: ProgressMessage) => void = () => {}): Promise<ProgressMessage> {
  let success: ProgressMessage | undefined;
  for await (const message of readProgress(res)) {
    if (message.type === 'error') {
      // A full disk keeps its code, so that it reads (and exits) like the same error before streaming.
      const code = message.code === 'insufficient_storage' ? 'insufficient_storage' : 'upstream';
      throw new AppError(code, message.message.replace(/^Error:\s*/, '') || 'the server reported an error');
    }
    if (message.type === 'success') success = message;
    else onProgress(message);
  }
  if (!success) throw new AppError('upstream', 'the server closed the stream before reporting success');
  return success;
}
