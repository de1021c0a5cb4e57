import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { followProgress, parseProgressLine, readProgress, unescapeHtml } from '../../../src/cli/client/progress-lines.js';
import { escapeHtml } from '../../../src/http/common/progress-stream.js';

/** A response stand-in: the chunks as a stream plus the Content-Type header. */
function response(chunks: string[], contentType: string): IncomingMessage {
  const stream = Readable.from(chunks.map((c) => Buffer.from(c)));
  return Object.assign(stream, { headers: { 'content-type': contentType } }) as unknown as IncomingMessage;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('HTML unescaping of text/plain progress lines', () => {
  test('the five entities Go escapes are turned back into their characters', () => {
    assert.equal(unescapeHtml('&#34;a&#34; &#39;b&#39; &amp; &lt;c&gt;'), `"a" 'b' & <c>`);
  });

  test('unescaping runs once, so an escaped entity stays an entity', () => {
    assert.equal(unescapeHtml('&amp;lt;'), '&lt;');
  });

  test('whatever the server escapes comes back unchanged', () => {
    const line = JSON.stringify({ type: 'progress', message: `it's <"&"> done` });
    assert.equal(unescapeHtml(escapeHtml(line)), line);
  });
});

describe('parsing progress lines', () => {
  test('an escaped line parses to the message the server meant', () => {
    const line = '{&#34;type&#34;:&#34;progress&#34;,&#34;message&#34;:&#34;Downloaded: 1.00 MB&#34;,&#34;total&#34;:10,&#34;layer&#34;:{&#34;id&#34;:&#34;sha256:ab&#34;,&#34;size&#34;:10,&#34;current&#34;:1}}';
    assert.deepEqual(parseProgressLine(line, true), {
      type: 'progress',
      message: 'Downloaded: 1.00 MB',
      total: 10,
      layer: { id: 'sha256:ab', size: 10, current: 1 },
    });
  });

  test('a raw JSON line is not unescaped, so literal entities in messages survive', () => {
    assert.equal(parseProgressLine('{"type":"success","message":"a &amp; b"}', false)?.message, 'a &amp; b');
  });

  test('a blank line is skipped and plain text becomes an error message', () => {
    assert.equal(parseProgressLine('   ', true), undefined);
    assert.deepEqual(parseProgressLine('internal error: disk full', true), { type: 'error', message: 'internal error: disk full' });
  });
});

describe('reading a progress stream', () => {
  test('lines split across chunks are reassembled and unescaped for text/plain bodies', async () => {
    const res = response(['{&#34;type&#34;:&#34;pro', 'gress&#34;,&#34;message&#34;:&#34;x&#34;}\n{&#34;type&#34;:', '&#34;success&#34;,&#34;message&#34;:&#34;done&#34;}\n'], 'text/plain; charset=utf-8');
    assert.deepEqual(await collect(readProgress(res)), [
      { type: 'progress', message: 'x' },
      { type: 'success', message: 'done' },
    ]);
  });

  test('following a stream reports progress and resolves with the success line', async () => {
    const res = response(['{"type":"progress","message":"a"}\n{"type":"success","message":"Model pulled successfully"}\n'], 'application/json');
    const seen: string[] = [];
    const success = await followProgress(res, (m) => seen.push(m.message));
    assert.deepEqual(seen, ['a']);
    assert.equal(success.message, 'Model pulled successfully');
  });

  test('an error line rejects with its message, without the "Error: " prefix', async () => {
    const res = response(['{"type":"progress","message":"a"}\n{"type":"error","message":"Error: manifest unknown"}\n'], 'application/json');
    await assert.rejects(followProgress(res), { message: 'manifest unknown' });
  });

  test('a stream that ends without success or error is a failure', async () => {
    const res = response(['{"type":"progress","message":"a"}\n'], 'application/json');
    await assert.rejects(followProgress(res), /before reporting success/);
  });
});
