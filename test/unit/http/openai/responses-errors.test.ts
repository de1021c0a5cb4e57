import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { AppError } from '../../../../src/errors.js';
import { sendResponsesError } from '../../../../src/http/openai/responses-errors.js';

function get(port: number, urlPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

describe('sendResponsesError', () => {
  let server: http.Server;
  let port: number;

  before(async () => {
    const app = express();
    app.get('/internal', (_req, res) => sendResponsesError(res, new Error('the engine broke')));
    app.get('/busy', (_req, res) => sendResponsesError(res, new AppError('busy', 'the queue is full')));
    app.get('/expired', (_req, res) =>
      sendResponsesError(res, new AppError('not_found', 'response "resp_1" has expired', { data: { param: null, reason: 'expired' } })),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a server error carries x-should-retry: false so that SDKs do not repeat a failed generation', async () => {
    const reply = await get(port, '/internal');
    assert.equal(reply.status, 500);
    assert.equal(reply.headers['x-should-retry'], 'false');
    assert.deepEqual(Object.keys(reply.body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(reply.body.error.type, 'server_error');
  });

  test('a full queue is a 503 with Retry-After, and also not retried by the SDK on its own', async () => {
    const reply = await get(port, '/busy');
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['x-should-retry'], 'false');
    assert.ok(Number(reply.headers['retry-after']) >= 1);
  });

  test('an expired response is a 404 in OpenAI shape that says it expired, without x-should-retry', async () => {
    const reply = await get(port, '/expired');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers['x-should-retry'], undefined);
    assert.equal(reply.body.error.type, 'not_found_error');
    assert.equal(reply.body.error.code, 'not_found');
    assert.equal(reply.body.error.param, null);
    assert.equal(reply.body.error.reason, 'expired');
    assert.match(reply.body.error.message, /expired/);
  });
});
