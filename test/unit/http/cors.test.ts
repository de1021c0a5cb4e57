import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { compileOriginPattern, corsMiddleware, createOriginPolicy, DEFAULT_ORIGINS } from '../../../src/http/common/cors.js';

describe('origin patterns', () => {
  test('a host wildcard matches one or more subdomain labels, including second-level ones', () => {
    const matches = compileOriginPattern('https://*.example.com');
    assert.equal(matches('https://app.example.com'), true);
    assert.equal(matches('https://app.test.example.com'), true);
    assert.equal(matches('https://example.com'), false);
    assert.equal(matches('http://app.example.com'), false);
    assert.equal(matches('https://app.example.com:8443'), false);
  });

  test('a host wildcard cannot be satisfied by an origin that smuggles another host', () => {
    const matches = compileOriginPattern('https://*.example.com');
    assert.equal(matches('https://evil.com/.example.com'), false);
    assert.equal(matches('https://user@evil.com#.example.com'), false);
    assert.equal(matches('https://appXexample.com'), false);
  });

  test('a port wildcard matches any numeric port but requires one', () => {
    const matches = compileOriginPattern('http://localhost:*');
    assert.equal(matches('http://localhost:3000'), true);
    assert.equal(matches('http://localhost:5173'), true);
    assert.equal(matches('http://localhost'), false);
    assert.equal(matches('http://localhost:abc'), false);
    assert.equal(matches('http://localhostx:3000'), false);
  });

  test('wildcards may appear in the host and the port of the same entry', () => {
    const matches = compileOriginPattern('http://*.internal:*');
    assert.equal(matches('http://box.internal:8080'), true);
    assert.equal(matches('http://box.internal'), false);
  });

  test('an exact entry matches case-insensitively and ignores a trailing slash in the configuration', () => {
    const matches = compileOriginPattern('https://App.Example.com:8443/');
    assert.equal(matches('https://app.example.com:8443'), true);
    assert.equal(matches('https://app.example.com:8444'), false);
  });

  test('an entry that is not scheme://host only matches itself', () => {
    const matches = compileOriginPattern('null');
    assert.equal(matches('null'), true);
    assert.equal(matches('http://null'), false);
  });
});

describe('the origin policy', () => {
  test('loopback and any-address origins are allowed on any port and both schemes by default', () => {
    const allowed = createOriginPolicy([]);
    for (const origin of ['http://localhost', 'http://localhost:3000', 'https://127.0.0.1:8443', 'http://0.0.0.0:80', 'http://[::1]:5173', 'https://[::1]']) {
      assert.equal(allowed(origin), true, origin);
    }
    assert.equal(DEFAULT_ORIGINS.length, 16);
  });

  test('other origins are refused unless configured', () => {
    assert.equal(createOriginPolicy([])('https://example.com'), false);
    assert.equal(createOriginPolicy(['https://example.com'])('https://example.com'), true);
    assert.equal(createOriginPolicy(['https://example.com'])('https://other.com'), false);
  });

  test('a lone * allows every origin even though the defaults are always added', () => {
    const allowed = createOriginPolicy(['*']);
    assert.equal(allowed('https://anything.example.org'), true);
    assert.equal(allowed('null'), true);
  });

  test('blank entries from a trailing comma in DMR_ORIGINS are ignored', () => {
    const allowed = createOriginPolicy(['', '  ', 'https://a.test']);
    assert.equal(allowed('https://a.test'), true);
    assert.equal(allowed(''), false);
  });
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(socketPath: string, method: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/probe', method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An app with only the CORS middleware and a /probe route, on a Unix socket in a temporary directory. */
async function startProbeServer(origins: string[]): Promise<{ socketPath: string; close(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-cors-'));
  const socketPath = path.join(dir, 'api.sock');
  const app = express();
  app.use(corsMiddleware(origins));
  app.get('/probe', (_req, res) => {
    res.send('route reached');
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

describe('the CORS middleware', () => {
  let socketPath: string;
  let close: () => Promise<void>;
  before(async () => ({ socketPath, close } = await startProbeServer(['https://*.example.com'])));
  after(() => close());

  test('a request without Origin reaches the route without CORS headers', async () => {
    const answer = await send(socketPath, 'GET', {});
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'route reached');
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  test('an allowed origin is echoed with credentials and Vary: Origin', async () => {
    const answer = await send(socketPath, 'GET', { Origin: 'https://app.test.example.com' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'route reached');
    assert.equal(answer.headers['access-control-allow-origin'], 'https://app.test.example.com');
    assert.equal(answer.headers['access-control-allow-credentials'], 'true');
    assert.match(String(answer.headers.vary), /Origin/);
  });

  test('a preflight from an allowed origin is answered 204 with the methods, the API\'s headers and the requested ones', async () => {
    const answer = await send(socketPath, 'OPTIONS', {
      Origin: 'http://localhost:5173',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type, authorization, anthropic-version, bad header',
    });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.equal(answer.headers['access-control-allow-methods'], 'GET, HEAD, POST, DELETE, OPTIONS');
    assert.equal(answer.headers['access-control-allow-headers'], 'Authorization, Content-Type, x-api-key, Accept, X-Preload-Only, anthropic-version');
  });

  test('a preflight that names no headers is still told Authorization, x-api-key and Content-Type by name, which a * would not cover', async () => {
    const answer = await send(socketPath, 'OPTIONS', { Origin: 'http://127.0.0.1:8080', 'Access-Control-Request-Method': 'GET' });
    assert.equal(answer.status, 204);
    const headers = String(answer.headers['access-control-allow-headers']).split(', ');
    for (const name of ['Authorization', 'x-api-key', 'Content-Type']) assert.ok(headers.includes(name), name);
  });

  test('an OPTIONS request that is not a preflight is left to the routes (Express answers it with Allow)', async () => {
    const answer = await send(socketPath, 'OPTIONS', { Origin: 'http://127.0.0.1:8080' });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers.allow), /GET/);
    assert.equal(answer.headers['access-control-allow-methods'], undefined);
  });

  test('a disallowed origin gets 403 "Origin not allowed" as text and never reaches the route', async () => {
    const answer = await send(socketPath, 'GET', { Origin: 'https://evil.test' });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.trim(), 'Origin not allowed');
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  test('a preflight from a disallowed origin is refused too', async () => {
    const answer = await send(socketPath, 'OPTIONS', { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST' });
    assert.equal(answer.status, 403);
  });
});

describe('the CORS middleware with --origins *', () => {
  let socketPath: string;
  let close: () => Promise<void>;
  before(async () => ({ socketPath, close } = await startProbeServer(['*'])));
  after(() => close());

  test('any origin gets a literal * and never Access-Control-Allow-Credentials, so no page can make credentialed reads', async () => {
    const answer = await send(socketPath, 'GET', { Origin: 'https://evil.test' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], '*');
    assert.equal(answer.headers['access-control-allow-credentials'], undefined);
  });

  test('a preflight gets 204 with a literal *, the methods and Authorization, x-api-key and Content-Type, without credentials', async () => {
    const answer = await send(socketPath, 'OPTIONS', { Origin: 'https://any.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers['access-control-allow-origin'], '*');
    assert.equal(answer.headers['access-control-allow-credentials'], undefined);
    assert.match(String(answer.headers['access-control-allow-methods']), /POST/);
    const headers = String(answer.headers['access-control-allow-headers']).split(', ');
    for (const name of ['Authorization', 'x-api-key', 'Content-Type']) assert.ok(headers.includes(name), name);
  });
});
