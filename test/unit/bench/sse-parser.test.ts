import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from '../../../src/bench/sse-parser.js';

function parseAll(chunks: string[]) {
  const parser = new SseParser();
  const events = chunks.flatMap((c) => parser.push(c));
  return [...events, ...parser.end()];
}

describe('SSE parser', () => {
  it('dispatches one event per blank line with its data field', () => {
    const events = parseAll(['data: {"a":1}\n\ndata: [DONE]\n\n']);
    assert.deepEqual(events.map((e) => e.data), ['{"a":1}', '[DONE]']);
    assert.equal(events[0]!.event, 'message');
  });

  it('joins the data lines of one event with a line feed', () => {
    assert.deepEqual(parseAll(['data: one\ndata: two\n\n']).map((e) => e.data), ['one\ntwo']);
  });

  it('reassembles events split at arbitrary points across chunks', () => {
    const text = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const events = parseAll([text.slice(0, cut), text.slice(cut)]);
      assert.deepEqual(events.map((e) => e.data), ['{"choices":[{"delta":{"content":"hi"}}]}', '[DONE]'], `cut at ${cut}`);
    }
  });

  it('accepts CRLF and CR line endings, including a CRLF split between chunks', () => {
    assert.deepEqual(parseAll(['data: a\r\n\r\ndata: b\r\r']).map((e) => e.data), ['a', 'b']);
    assert.deepEqual(parseAll(['data: a\r', '\n\r', '\ndata: b\r\n\r\n']).map((e) => e.data), ['a', 'b']);
  });

  it('skips comments and keeps the event name and id', () => {
    const events = parseAll([': keep-alive\n\nevent: error\nid: 7\ndata: boom\n\n']);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], { event: 'error', data: 'boom', id: '7' });
  });

  it('drops only the one space after the colon', () => {
    assert.deepEqual(parseAll(['data:x\n\ndata:  y\n\n']).map((e) => e.data), ['x', ' y']);
  });

  it('returns a final event that the server closed without a blank line', () => {
    assert.deepEqual(parseAll(['data: last']).map((e) => e.data), ['last']);
  });

  it('ignores blank lines that end no event', () => {
    assert.deepEqual(parseAll(['\n\n\ndata: a\n\n\n\n']).map((e) => e.data), ['a']);
  });
});
