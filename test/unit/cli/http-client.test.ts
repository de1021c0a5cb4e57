import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ModelRunnerClient } from '../../../src/cli/client/client.js';
import { AppError } from '../../../src/errors.js';

describe('the HTTP client over TCP', () => {
  let server: http.Server;
  let port: number;
  const urls: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      urls.push(req.url!);
      if (new URL(req.url!, 'http://fixture').pathname.endsWith('/version')) {
        res.setHeader('Content-Type', 'application/json');
        res.end('{"version":"1.2.3"}');
        return;
      }
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end('{"error":{"message":"model is required","type":"invalid_request_error"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a URL target with a path uses it as a prefix of every route and keeps the query', async () => {
    const client = new ModelRunnerClient({ kind: 'url', url: new URL(`http://127.0.0.1:${port}/exp/vDD4.40/`) });
    assert.deepEqual(await client.json('/version', { query: { a: 'b c', skip: undefined } }), { version: '1.2.3' });
    assert.equal(urls.at(-1), '/exp/vDD4.40/version?a=b+c');
  });

  test('an OpenAI error answer rejects with its message and keeps the status', async () => {
    const client = new ModelRunnerClient({ kind: 'url', url: new URL(`http://127.0.0.1:${port}`) });
    await assert.rejects(client.json('/engines/v1/chat/completions', { method: 'POST', json: {} }), (err: unknown) => {
      return err instanceof AppError && err.message === 'model is required' && err.data?.status === 400;
    });
  });

  test('a port nobody listens on is reported as a server that is not running', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new ModelRunnerClient({ kind: 'url', url: new URL(`http://127.0.0.1:${freePort}`) });
    await assert.rejects(client.text('/'), new RegExp(`model-runner is not running \\(nothing listening at http://127\\.0\\.0\\.1:${freePort}\\)`));
  });
});
