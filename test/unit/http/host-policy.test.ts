import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHostPolicy, hostnameOf, isLoopbackHost } from '../../../src/http/common/host-policy.js';
import { checkTcpBind } from '../../../src/http/common/tcp-access.js';

describe('the Host policy of the TCP listener', () => {
  test('a Host value loses its port, brackets, case and trailing dot', () => {
    assert.equal(hostnameOf('LocalHost:8080'), 'localhost');
    assert.equal(hostnameOf('[::1]:12434'), '::1');
    assert.equal(hostnameOf('example.com.'), 'example.com');
    assert.equal(hostnameOf('::1'), '::1');
  });

  test('localhost and every spelling of a loopback address are loopback; names that merely contain them are not', () => {
    for (const host of ['localhost', '127.0.0.1', '127.9.8.7:1', '[::1]', '0:0:0:0:0:0:0:1', '[::ffff:127.0.0.1]']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['localhost.attacker.example', '127.0.0.1.nip.io', '0.0.0.0', '::', '10.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });

  test('a server bound to one address answers to it; one bound to every address answers to the address a client connected to', () => {
    const bound = createHostPolicy({ boundHost: '192.168.1.5' });
    assert.equal(bound('192.168.1.5:12434', '192.168.1.5'), true);
    const any = createHostPolicy({ boundHost: '0.0.0.0' });
    assert.equal(any('192.168.1.5:12434', '::ffff:192.168.1.5'), true);
    assert.equal(any('192.168.1.6', '192.168.1.5'), false);
    assert.equal(any('0.0.0.0', '192.168.1.5'), false);
  });

  test("a name is never accepted for matching the connection's address: only an address literal is", () => {
    const policy = createHostPolicy({ boundHost: '127.0.0.1' });
    assert.equal(policy('rebind.attacker.example', '127.0.0.1'), false);
  });

  test('listed hosts match exactly or, with *., as subdomains; * alone turns the check off; no Host is refused', () => {
    const policy = createHostPolicy({ boundHost: '127.0.0.1', allowedHosts: ['Models.Internal', '*.lab.example'] });
    assert.equal(policy('models.internal:9', undefined), true);
    assert.equal(policy('a.b.lab.example', undefined), true);
    assert.equal(policy('lab.example', undefined), false);
    assert.equal(policy('evillab.example', undefined), false);
    assert.equal(policy(undefined, '127.0.0.1'), false);
    assert.equal(createHostPolicy({ boundHost: '127.0.0.1', allowedHosts: ['*'] })('anything.example', undefined), true);
  });
});

describe('the TCP bind check', () => {
  test('a loopback bind needs nothing; a non-loopback one needs a key or --insecure-bind', () => {
    assert.doesNotThrow(() => checkTcpBind({ host: '127.0.0.1', apiKey: undefined, insecureBind: false }));
    assert.doesNotThrow(() => checkTcpBind({ host: 'localhost', apiKey: undefined, insecureBind: false }));
    assert.doesNotThrow(() => checkTcpBind({ host: '0.0.0.0', apiKey: 'k', insecureBind: false }));
    assert.doesNotThrow(() => checkTcpBind({ host: '::', apiKey: undefined, insecureBind: true }));
    assert.throws(() => checkTcpBind({ host: '192.168.1.5', apiKey: undefined, insecureBind: false }), /refusing to listen on 192\.168\.1\.5 without an API key/);
  });
});
