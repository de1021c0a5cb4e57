import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatEndpoint, parseEndpoint } from '../../../src/bench/endpoint.js';

describe('bench endpoint syntax', () => {
  it('parses an http URL into host, port and API root', () => {
    assert.deepEqual(parseEndpoint('http://127.0.0.1:8080/v1'), { kind: 'tcp', host: '127.0.0.1', port: 8080, basePath: '/v1' });
  });

  it('defaults the API root of an http URL without a path to /v1', () => {
    assert.equal(parseEndpoint('http://localhost:9000').basePath, '/v1');
  });

  it('splits a unix endpoint into socket path and API root at the first colon-slash', () => {
    assert.deepEqual(parseEndpoint('unix:/run/mr.sock:/engines/llama.cpp/v1/'), {
      kind: 'unix',
      socketPath: '/run/mr.sock',
      basePath: '/engines/llama.cpp/v1',
    });
  });

  it('defaults the API root of a socket to the llama.cpp engine route and resolves relative paths', () => {
    const e = parseEndpoint('unix:model-runner.sock');
    assert.deepEqual(e, { kind: 'unix', socketPath: path.resolve('model-runner.sock'), basePath: '/engines/llama.cpp/v1' });
  });

  it('writes endpoints back in the syntax it parses', () => {
    for (const spec of ['http://127.0.0.1:8080/v1', 'unix:/run/mr.sock:/engines/v1']) {
      assert.equal(formatEndpoint(parseEndpoint(spec)), spec);
    }
  });

  it('rejects https, other schemes and a missing socket path', () => {
    assert.throws(() => parseEndpoint('https://example.com/v1'), { code: 'unsupported', message: /only http:\/\/ and unix: endpoints are supported, got "https:"/ });
    assert.throws(() => parseEndpoint('ftp://x/y'), { code: 'unsupported', message: /got "ftp:"/ });
    assert.throws(() => parseEndpoint('unix::/v1'), { code: 'bad_request', message: /no socket path in "unix::\/v1"/ });
    assert.throws(() => parseEndpoint('not a url'), { code: 'bad_request', message: /invalid URL "not a url"/ });
  });
});
