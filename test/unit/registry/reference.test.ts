import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { parseModelId, parseReference, usesPlainHttp } from '../../../src/registry/reference.js';

describe('parseReference', () => {
  const table: Array<[string, { canonical: string; registry: string; host: string; repository: string; tag?: string; digest?: string }]> = [
    ['smollm2', { canonical: 'docker.io/ai/smollm2:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/smollm2', tag: 'latest' }],
    ['  smollm2  ', { canonical: 'docker.io/ai/smollm2:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/smollm2', tag: 'latest' }],
    ['ai/smollm2:360M-Q4_K_M', { canonical: 'docker.io/ai/smollm2:360M-Q4_K_M', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/smollm2', tag: '360M-Q4_K_M' }],
    ['MyOrg/X', { canonical: 'docker.io/myorg/x:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'myorg/x', tag: 'latest' }],
    ['myorg/x', { canonical: 'docker.io/myorg/x:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'myorg/x', tag: 'latest' }],
    ['smollm2:', { canonical: 'docker.io/ai/smollm2:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/smollm2', tag: 'latest' }],
    ['127.0.0.1:5000/ai/x:tag', { canonical: '127.0.0.1:5000/ai/x:tag', registry: '127.0.0.1:5000', host: '127.0.0.1:5000', repository: 'ai/x', tag: 'tag' }],
    ['localhost:5000/x', { canonical: 'localhost:5000/x:latest', registry: 'localhost:5000', host: 'localhost:5000', repository: 'x', tag: 'latest' }],
    ['localhost/ns/x:v1', { canonical: 'localhost/ns/x:v1', registry: 'localhost', host: 'localhost', repository: 'ns/x', tag: 'v1' }],
    ['hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M', { canonical: 'huggingface.co/bartowski/llama-3.2-1b-gguf:Q4_K_M', registry: 'huggingface.co', host: 'huggingface.co', repository: 'bartowski/llama-3.2-1b-gguf', tag: 'Q4_K_M' }],
    ['index.docker.io/ai/x', { canonical: 'docker.io/ai/x:latest', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/x', tag: 'latest' }],
    ['registry-1.docker.io/ai/x:1', { canonical: 'docker.io/ai/x:1', registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/x', tag: '1' }],
    ['ghcr.io/Org/Models/x:Big', { canonical: 'ghcr.io/org/models/x:Big', registry: 'ghcr.io', host: 'ghcr.io', repository: 'org/models/x', tag: 'Big' }],
    [`ai/x@sha256:${'a'.repeat(64)}`, { canonical: `docker.io/ai/x@sha256:${'a'.repeat(64)}`, registry: 'docker.io', host: 'registry-1.docker.io', repository: 'ai/x', digest: `sha256:${'a'.repeat(64)}` }],
    [`127.0.0.1:5000/ai/x:v2@sha256:${'b'.repeat(64)}`, { canonical: `127.0.0.1:5000/ai/x:v2@sha256:${'b'.repeat(64)}`, registry: '127.0.0.1:5000', host: '127.0.0.1:5000', repository: 'ai/x', tag: 'v2', digest: `sha256:${'b'.repeat(64)}` }],
  ];
  for (const [input, expected] of table) {
    test(`"${input}" normalises to ${expected.canonical}`, () => {
      const ref = parseReference(input);
      assert.deepEqual(ref, expected);
    });
  }

  test('a configured default registry replaces docker.io for names without a registry', () => {
    const ref = parseReference('smollm2:tiny', { defaultRegistry: '127.0.0.1:5000' });
    assert.equal(ref.canonical, '127.0.0.1:5000/ai/smollm2:tiny');
    assert.equal(ref.host, '127.0.0.1:5000');
  });

  const invalid: Array<[string, RegExp]> = [
    ['', /empty reference/],
    ['   ', /empty reference/],
    ['ai/../etc', /path traversal component "\.\."/],
    ['127.0.0.1:5000/ai/./x', /path traversal component "\."/],
    ['ai//x', /empty path component/],
    ['ai/x y', /whitespace/],
    ['ai/x?tag=1', /characters not allowed/],
    ['ai/x:-bad', /tag "-bad"/],
    [`ai/x:${'t'.repeat(129)}`, /tag longer than 128/],
    ['ai/x@sha256:abc', /bad digest "sha256:abc"/],
    [`ai/x@md5:${'a'.repeat(32)}`, /bad digest/],
    ['ai/x_-y', /repository component "x_-y"/],
    ['bad_host.io:99999/x', /bad registry/],
  ];
  for (const [input, message] of invalid) {
    test(`${JSON.stringify(input)} is rejected as an invalid reference that says why`, () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.code, 'invalid_reference');
          assert.ok(err.message.startsWith(`invalid reference ${JSON.stringify(input)}: `), err.message);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('parseModelId', () => {
  const hex = '0123456789abcdef'.repeat(4);
  test('a 12-hex string is a short ID to look up', () => {
    assert.deepEqual(parseModelId('0123456789ab'), { short: '0123456789ab' });
  });
  test('64 hex digits and sha256:<hex> both become the full digest form', () => {
    assert.deepEqual(parseModelId(hex), { digest: `sha256:${hex}` });
    assert.deepEqual(parseModelId(`sha256:${hex}`), { digest: `sha256:${hex}` });
    assert.deepEqual(parseModelId(`SHA256:${hex.toUpperCase()}`), { digest: `sha256:${hex}` });
  });
  test('names and hex strings of other lengths are not IDs', () => {
    assert.equal(parseModelId('smollm2'), undefined);
    assert.equal(parseModelId('0123456789a'), undefined);
    assert.equal(parseModelId(hex.slice(0, 40)), undefined);
    assert.equal(parseModelId('sha256:abc'), undefined);
  });
});

describe('usesPlainHttp', () => {
  test('loopback registries use plain HTTP whatever the port', () => {
    for (const registry of ['127.0.0.1:5000', '127.3.2.1', 'localhost', 'localhost:5000', '[::1]:5000', '[::1]']) {
      assert.equal(usesPlainHttp(registry, []), true, registry);
    }
  });
  test('other registries use HTTPS unless listed as insecure', () => {
    assert.equal(usesPlainHttp('docker.io', []), false);
    assert.equal(usesPlainHttp('myregistry.lan:5000', []), false);
    assert.equal(usesPlainHttp('myregistry.lan:5000', ['myregistry.lan:5000']), true);
    assert.equal(usesPlainHttp('myregistry.lan:5000', ['myregistry.lan']), true);
    assert.equal(usesPlainHttp('myregistry.lan:5000', ['other.lan']), false);
    assert.equal(usesPlainHttp('128.0.0.1:5000', []), false);
  });
});
