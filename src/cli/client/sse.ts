/**
 * Reads the `data:` payloads of a text/event-stream body (OpenAI streaming): lines of one event
 * are joined with "\n", a blank line ends the event, comments and other fields are skipped,
 * and `data: [DONE]` ends the stream.
 */
import { readLines } from './lines.js';

export const SSE_DONE = '[DONE]';

/** Yields each event's data; stops at [DONE] or at the end of the body. */
export async function* readSseData(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of readLines(stream)) {
    if (line === '') {
      if (data.length === 0) continue;
      const payload = data.join('\n');
      data = [];
      if (payload === SSE_DONE) return;
      yield payload;
      continue;
    }
    if (!line.startsWith('data:')) continue;
    const value = line.slice(5);
    data.push(value.startsWith(' ') ? value.slice(1) : value);
  }
  // A server that closes right after its last data line meant it.
  const last = data.join('\n');
  if (data.length > 0 && last !== SSE_DONE) yield last;
}
