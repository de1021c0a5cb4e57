import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { plainProgressLine, progressBar, ProgressView } from '../../../src/cli/client/progress-view.js';
import { serverError, serverErrorMessage } from '../../../src/cli/client/server-error.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

const layer = (current: number) => ({ type: 'progress', message: '', mode: 'pull', layer: { id: `sha256:abcdefabcdef${'0'.repeat(52)}`, size: 1_000_000, current } });

describe('server error messages', () => {
  test('plain text answers are used as they are, without the trailing newline', () => {
    assert.equal(serverErrorMessage(404, 'model not found\n'), 'model not found');
  });

  test('OpenAI error objects, bare error strings and message fields are unwrapped', () => {
    assert.equal(serverErrorMessage(400, '{"error":{"message":"model is required","type":"invalid_request_error"}}'), 'model is required');
    assert.equal(serverErrorMessage(500, '{"error":"boom"}'), 'boom');
    assert.equal(serverErrorMessage(500, '{"message":"bad"}'), 'bad');
  });

  test('an empty body falls back to the status', () => {
    assert.equal(serverErrorMessage(502, '', 'Bad Gateway'), 'the server answered 502 Bad Gateway');
  });

  test('the status is kept on the error and mapped to an error code', () => {
    const err = serverError(409, 'conflict here');
    assert.equal(err.code, 'conflict');
    assert.equal(err.data?.status, 409);
  });
});

describe('progress rendering', () => {
  test('bars fill in proportion and end full', () => {
    assert.equal(progressBar(0, 100, 10), '[>         ]');
    assert.equal(progressBar(50, 100, 10), '[=====>    ]');
    assert.equal(progressBar(100, 100, 10), '[==========]');
  });

  test('a plain line names the layer, the bytes and the percentage, and says when it is done', () => {
    assert.equal(plainProgressLine(layer(250_000).layer, 'pull'), 'Downloading abcdefabcdef: 250.00kB / 1.00MB (25%)');
    assert.equal(plainProgressLine(layer(1_000_000).layer, 'push'), 'Pushed abcdefabcdef: 1.00MB');
  });

  test('without a terminal a line is printed only when a layer passes another tenth', () => {
    const out = new Sink();
    const view = new ProgressView({ out, tty: false });
    for (const current of [0, 10_000, 50_000, 120_000, 130_000, 1_000_000]) view.update(layer(current));
    assert.deepEqual(out.text.trimEnd().split('\n'), [
      'Downloading abcdefabcdef: 0B / 1.00MB (0%)',
      'Downloading abcdefabcdef: 120.00kB / 1.00MB (12%)',
      'Downloaded abcdefabcdef: 1.00MB',
    ]);
  });

  test('on a terminal each update redraws the bars in place', () => {
    const out = new Sink();
    const view = new ProgressView({ out, tty: true, barWidth: 4 });
    view.update(layer(0));
    view.update(layer(500_000));
    assert.equal(out.text, '\r\x1b[2Kabcdefabcdef: Downloading [>   ] 0B/1.00MB\n\x1b[1A\r\x1b[2Kabcdefabcdef: Downloading [==> ] 500.00kB/1.00MB\n');
  });
});
