import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseWwwAuthenticate } from '../../../src/registry/www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  test("Docker Hub's bearer challenge yields realm, service and a scope that contains a comma", () => {
    const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:ai/smollm2:pull,push"';
    assert.deepEqual(parseWwwAuthenticate(header), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:ai/smollm2:pull,push' } },
    ]);
  });

  test('a challenge without scope, with spaces and unquoted values, still parses', () => {
    assert.deepEqual(parseWwwAuthenticate('bearer  realm = "http://127.0.0.1:5003/token" , service=local-registry'), [
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5003/token', service: 'local-registry' } },
    ]);
  });

  test('escaped quotes inside quoted values are unescaped', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="say \\"hi\\", please"'), [{ scheme: 'basic', params: { realm: 'say "hi", please' } }]);
  });

  test('several challenges in one header and in several headers are all returned', () => {
    const parsed = parseWwwAuthenticate(['Basic realm="r1", Bearer realm="https://a/token",error="insufficient_scope"', 'Negotiate']);
    assert.deepEqual(parsed.map((c) => c.scheme), ['basic', 'bearer', 'negotiate']);
    assert.equal(parsed[1]!.params.error, 'insufficient_scope');
  });

  test('missing and garbled headers give no challenges and never throw', () => {
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.doesNotThrow(() => parseWwwAuthenticate('=,,"unterminated'));
  });
});
