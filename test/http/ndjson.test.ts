import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Router } from 'express';
import { createNdjsonWriter } from '../../src/http/common/ndjson.js';
import { request, startTestServer, type TestServer } from './socket-client.js';

let server: TestServer | undefined;
after(async () => server?.close());

describe('NDJSON writer', () => {
  test('objects are written one JSON document per line with the chosen content type, HTML-escaped when asked', async () => {
    const router = Router();
    let closedAfterEnd: boolean | undefined;
    router.get('/plain', async (_req, res) => {
      const writer = createNdjsonWriter(res);
      await writer.write({ status: 'pulling', completed: 1 });
      await writer.write({ status: 'success' });
      writer.end();
      closedAfterEnd = writer.closed;
    });
    router.get('/escaped', async (_req, res) => {
      const writer = createNdjsonWriter(res, { contentType: 'text/plain', htmlEscape: true });
      await writer.write({ message: '<ok & "done">' });
      writer.end();
    });
    server = await startTestServer([router]);
    const plain = await request(server.socketPath, '/plain');
    assert.equal(plain.headers['content-type'], 'application/x-ndjson');
    assert.equal(plain.headers['cache-control'], 'no-cache');
    assert.equal(plain.text, '{"status":"pulling","completed":1}\n{"status":"success"}\n');
    assert.equal(closedAfterEnd, true);
    const escaped = await request(server.socketPath, '/escaped');
    assert.match(String(escaped.headers['content-type']), /^text\/plain/);
    assert.equal(escaped.text, '{&#34;message&#34;:&#34;&lt;ok &amp; \\&#34;done\\&#34;&gt;&#34;}\n');
  });
});
