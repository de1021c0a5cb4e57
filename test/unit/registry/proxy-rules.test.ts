import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { parseProxyUrl, ProxyRules } from '../../../src/registry/proxy-rules.js';

const HTTP = 'http://proxy.corp:3128';
const HTTPS = 'http://tunnel.corp:8080';

/** Which proxy each URL would use under `noProxy`: "http", "https" or "direct". */
function routes(noProxy: string | undefined, urls: string[]): string[] {
  const rules = new ProxyRules({ httpProxy: HTTP, httpsProxy: HTTPS, noProxy });
  return urls.map((u) => {
    const proxy = rules.proxyFor(new URL(u));
    return proxy === undefined ? 'direct' : proxy.host === 'proxy.corp' ? 'http' : 'https';
  });
}

describe('proxy rules', () => {
  test('http URLs use HTTP_PROXY and https URLs HTTPS_PROXY; a missing one means direct', () => {
    assert.deepEqual(routes(undefined, ['http://registry:5000/v2/', 'https://registry-1.docker.io/v2/']), ['http', 'https']);
    const onlyHttps = new ProxyRules({ httpsProxy: HTTPS });
    assert.equal(onlyHttps.proxyFor(new URL('http://registry:5000/')), undefined);
    assert.equal(onlyHttps.proxyFor(new URL('https://registry/'))?.display, 'tunnel.corp:8080');
  });

  test('NO_PROXY names match the host and every host below it, with or without a leading dot or star', () => {
    const urls = ['https://docker.io/', 'https://registry-1.docker.io/', 'https://notdocker.io/', 'https://docker.io.evil.com/'];
    for (const entry of ['docker.io', '.docker.io', '*.docker.io', 'DOCKER.IO.']) {
      assert.deepEqual(routes(entry, urls), ['direct', 'direct', 'https', 'https'], entry);
    }
  });

  test('NO_PROXY entries with a port match only that port', () => {
    assert.deepEqual(routes('registry.local:5000', ['http://registry.local:5000/', 'http://registry.local:5001/', 'http://registry.local/']), ['direct', 'http', 'http']);
    assert.deepEqual(routes('registry.local:443', ['https://registry.local/', 'https://registry.local:8443/']), ['direct', 'https']);
  });

  test('NO_PROXY addresses and CIDR blocks match literal addresses, IPv6 included', () => {
    const urls = ['http://10.1.2.3:5000/', 'http://10.200.0.1/', 'http://192.168.1.1/', 'http://[::1]:5000/', 'http://[fd00::5]/'];
    // [::1] is loopback, reached directly whatever NO_PROXY says.
    assert.deepEqual(routes('10.1.2.3', urls), ['direct', 'http', 'http', 'direct', 'http']);
    assert.deepEqual(routes('10.0.0.0/8, fd00::/8', urls), ['direct', 'direct', 'http', 'direct', 'direct']);
    assert.deepEqual(routes('fd00::5', urls), ['http', 'http', 'http', 'direct', 'direct']);
    assert.deepEqual(routes('[fd00::5]:80', urls), ['http', 'http', 'http', 'direct', 'direct']);
    assert.deepEqual(routes('fd00:0:0:0:0:0:0:5', urls), ['http', 'http', 'http', 'direct', 'direct']);
  });

  test('a star alone sends everything direct', () => {
    assert.deepEqual(routes('*', ['http://a/', 'https://b/']), ['direct', 'direct']);
  });

  test('loopback registries go direct, as a proxy elsewhere cannot reach them, unless the proxy is on this machine', () => {
    const loopback = ['http://127.0.0.1:5000/', 'http://localhost:5000/', 'https://registry.localhost/', 'http://127.9.9.9/', 'http://[::1]:5000/', 'http://[::ffff:127.0.0.1]/'];
    assert.deepEqual(routes(undefined, loopback), loopback.map(() => 'direct'));
    const local = new ProxyRules({ httpProxy: HTTP, httpsProxy: HTTPS, proxyLoopback: true });
    assert.deepEqual(loopback.map((u) => local.proxyFor(new URL(u))?.display), ['proxy.corp:3128', 'proxy.corp:3128', 'tunnel.corp:8080', 'proxy.corp:3128', 'proxy.corp:3128', 'proxy.corp:3128']);
    assert.equal(new ProxyRules({ httpProxy: HTTP, noProxy: '127.0.0.1', proxyLoopback: true }).proxyFor(new URL('http://127.0.0.1/')), undefined);
  });

  test('a name never matches an address, nor an address a name', () => {
    assert.deepEqual(routes('10.0.0.0/8', ['http://ten.example/']), ['http']);
    assert.deepEqual(routes('example', ['http://10.0.0.1/']), ['http']);
  });

  test('a proxy URL carries its credentials as Basic authorization for the proxy, decoded, and shows them nowhere', () => {
    const proxy = parseProxyUrl('http://us%40er:p%3Ass@proxy.corp:3128', 'HTTPS_PROXY');
    assert.equal(proxy.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    assert.equal(proxy.display, 'proxy.corp:3128');
    assert.equal(parseProxyUrl('proxy.corp', 'HTTP_PROXY').port, 80);
    assert.equal(parseProxyUrl('http://[::1]:3128', 'HTTP_PROXY').host, '::1');
    assert.throws(() => parseProxyUrl('https://user:pw@proxy:443', 'HTTPS_PROXY'), (err: unknown) => err instanceof AppError && /HTTPS_PROXY must be an http:\/\//.test(err.message) && !err.message.includes('pw'));
  });
});
