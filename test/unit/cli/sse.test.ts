import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { readLines } from '../../../src/cli/client/lines.js';
import { readSseData } from '../../../src/cli/client/sse.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('line splitting', () => {
  test('LF and CRLF both end lines and a multi-byte character split across chunks stays whole', async () => {
    const euro = Buffer.from('€');
    const stream = Readable.from([Buffer.from('a\r\nb'), euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\nlast')])]);
    assert.deepEqual(await collect(readLines(stream)), ['a', 'b€', 'last']);
  });
});

describe('SSE data', () => {
  test('each event yields its data, and [DONE] ends the stream even if more follows', async () => {
    const stream = chunks('data: {"a":1}\n\n', 'data: {"a"', ':2}\n\ndata: [DONE]\n\ndata: {"a":3}\n\n');
    assert.deepEqual(await collect(readSseData(stream)), ['{"a":1}', '{"a":2}']);
  });

  test('comments and other fields are skipped and multi-line data is joined with newlines', async () => {
    const stream = chunks(': keep-alive\n', 'event: message\nid: 7\ndata: one\ndata:two\n\n');
    assert.deepEqual(await collect(readSseData(stream)), ['one\ntwo']);
  });

  test('a last event without its blank line is still delivered', async () => {
    assert.deepEqual(await collect(readSseData(chunks('data: tail'))), ['tail']);
  });
});
