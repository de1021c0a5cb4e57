import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { f16BitsToF32, f32ToF16Bits } from '../../../src/gguf/half.js';
import { Q8_0_BLOCK_BYTES, quantizeQ8_0 } from '../../../src/gguf/quantize.js';

describe('f32 to f16 conversion', () => {
  test('exactly representable values keep their bit patterns', () => {
    assert.equal(f32ToF16Bits(1), 0x3c00);
    assert.equal(f32ToF16Bits(-2), 0xc000);
    assert.equal(f32ToF16Bits(0), 0x0000);
    assert.equal(f32ToF16Bits(-0), 0x8000);
    assert.equal(f32ToF16Bits(65504), 0x7bff);
    assert.equal(f32ToF16Bits(2 ** -14), 0x0400);
    assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
  });

  test('values halfway between two halves round to the one with an even mantissa', () => {
    // 1 + 2^-11 lies between 0x3c00 (even) and 0x3c01: down.
    assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00);
    // 1 + 3 * 2^-11 lies between 0x3c01 and 0x3c02 (even): up.
    assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
    // Subnormal ties: 2^-25 between 0 (even) and 0x0001; 3 * 2^-25 between 0x0001 and 0x0002 (even).
    assert.equal(f32ToF16Bits(2 ** -25), 0x0000);
    assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002);
    // 65520 is halfway between 65504 (odd mantissa 0x3ff) and 65536, which overflows to infinity.
    assert.equal(f32ToF16Bits(65520), 0x7c00);
  });

  test('values off a tie round to the nearest half', () => {
    assert.equal(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01);
    assert.equal(f32ToF16Bits(0.1), 0x2e66);
    assert.equal(f32ToF16Bits(65519), 0x7bff);
    assert.equal(f32ToF16Bits(1e-9), 0x0000);
  });

  test('infinities and NaN map to the f16 infinities and a NaN', () => {
    assert.equal(f32ToF16Bits(Infinity), 0x7c00);
    assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
    assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  });

  test('decoding an encoded value gives the value rounded to f16', () => {
    for (const v of [1, -2, 0.5, 65504, 2 ** -24, 2 ** -14]) assert.equal(f16BitsToF32(f32ToF16Bits(v)), v);
    assert.equal(f16BitsToF32(f32ToF16Bits(0.1)), 0.0999755859375);
    assert.equal(f16BitsToF32(f32ToF16Bits(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  });
});

describe('Q8_0 quantization', () => {
  test('a block stores the f16 scale amax/127 then the values divided by it, rounded half away from zero', () => {
    const values = new Float32Array(32);
    values.set([127, -2.5, 2.5, -0.5, 0.5, 1.49, -127, 63.5]);
    const block = quantizeQ8_0(values);
    assert.equal(block.length, Q8_0_BLOCK_BYTES);
    const view = new DataView(block.buffer);
    assert.equal(view.getUint16(0, true), 0x3c00); // d = 127 / 127 = 1
    const quants = Array.from(new Int8Array(block.buffer, 2, 32));
    assert.deepEqual(quants.slice(0, 8), [127, -3, 3, -1, 1, 1, -127, 64]);
    assert.deepEqual(quants.slice(8), new Array(24).fill(0));
  });

  test('the quants use the unrounded float scale, while the stored scale is rounded to f16', () => {
    const values = new Float32Array(32);
    for (let j = 0; j < 32; j++) values[j] = j - 16;
    const block = quantizeQ8_0(values);
    const d = Math.fround(16 / 127);
    assert.equal(new DataView(block.buffer).getUint16(0, true), f32ToF16Bits(d));
    const quants = new Int8Array(block.buffer, 2, 32);
    assert.equal(quants[0], -127); // -16 / d
    assert.equal(quants[31], 119); // 15 * 127 / 16 = 119.06
    assert.equal(quants[16], 0);
    assert.equal(quants[24], 64); // 8 / d is about 63.5
  });

  test('an all-zero block has a zero scale and zero quants', () => {
    const block = quantizeQ8_0(new Float32Array(64));
    assert.equal(block.length, 2 * Q8_0_BLOCK_BYTES);
    assert.ok(block.every((b) => b === 0));
  });

  test('a length that is not a multiple of 32 is refused', () => {
    assert.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
  });
});
