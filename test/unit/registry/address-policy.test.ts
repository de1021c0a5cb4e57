import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { internalRangeOf, RegistryAddressPolicy } from '../../../src/registry/address-policy.js';

describe('internal address ranges', () => {
  test('loopback, private, link-local, unique-local and unspecified addresses are named by their range', () => {
    const cases: Array<[string, string | undefined]> = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['[::1]', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
    ];
    for (const [address, range] of cases) assert.equal(internalRangeOf(address), range, address);
  });

  test('public addresses and names are in no internal range', () => {
    for (const address of ['8.8.8.8', '172.32.0.1', '172.15.255.255', '192.169.0.1', '203.0.113.7', '2001:db8::1', '::ffff:8.8.8.8', 'registry-1.docker.io']) {
      assert.equal(internalRangeOf(address), undefined, address);
    }
  });

  test('a registry name is internal only when every address it resolves to is', async () => {
    const policy = new RegistryAddressPolicy(async (host) => (host === 'mirror.lan' ? ['10.0.0.5'] : ['10.0.0.5', '203.0.113.7']));
    assert.equal(await policy.isInternal('mirror.lan'), true);
    assert.equal(await policy.isInternal('split.example'), false);
    assert.equal(await policy.isInternal('127.0.0.1'), true);
    assert.equal(await policy.isInternal('[::1]'), true);
    assert.equal(await policy.isInternal('203.0.113.7'), false);
  });
});
