/** Splits a byte stream into text lines (LF or CRLF), decoding UTF-8 across chunk borders. */
import { StringDecoder } from 'node:string_decoder';

/** Yields each line without its terminator; a last line without one is yielded too. */
export async function* readLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  for await (const chunk of stream) {
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      yield buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  }
  buffer += decoder.end();
  if (buffer !== '') yield buffer.replace(/\r$/, '');
}
