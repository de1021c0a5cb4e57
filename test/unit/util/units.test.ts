import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBinarySize, formatDecimalSize } from '../../../src/util/units.js';

describe('sizes', () => {
  test('decimal units with two decimals, bytes as they are', () => {
    assert.equal(formatDecimalSize(512), '512B');
    assert.equal(formatDecimalSize(256_350_000), '256.35MB');
    assert.equal(formatDecimalSize(4_920_000_000), '4.92GB');
  });

  test('binary units with two decimals, bytes as they are', () => {
    assert.equal(formatBinarySize(1000), '1000B');
    assert.equal(formatBinarySize(268_802_458), '256.35MiB');
    assert.equal(formatBinarySize(5 * 1024 ** 3), '5.00GiB');
  });
});
