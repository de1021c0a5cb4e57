import { AppError } from '../errors.js';
import { f32ToF16Bits } from './half.js';
import { GGML_TYPE } from './ggml-types.js';

/** Elements per Q8_0 block. */
export const QK8_0 = 32;
/** Bytes per Q8_0 block: an f16 scale then 32 signed bytes. */
export const Q8_0_BLOCK_BYTES = 2 + QK8_0;

/** The tensor types the generator can encode. */
export type EncodableType = typeof GGML_TYPE.F32 | typeof GGML_TYPE.F16 | typeof GGML_TYPE.Q8_0;

/** C's roundf: halves round away from zero (Math.round would round -2.5 to -2). */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * Encodes Q8_0 blocks exactly like ggml's quantize_row_q8_0_ref: d = amax/127 in float
 * precision, stored as f16, and the quants scaled by 1/d (the unrounded float) then roundf'd.
 * `values.length` must be a multiple of 32.
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % QK8_0 !== 0) {
    throw new AppError('internal', `Q8_0 needs a multiple of ${QK8_0} values, got ${values.length}`);
  }
  const blocks = values.length / QK8_0;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * QK8_0;
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(values[base + j]!));
    // Division and multiplication done in double then rounded once to float give the same
    // result as the float operations in C.
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const offset = b * Q8_0_BLOCK_BYTES;
    view.setUint16(offset, f32ToF16Bits(d), true);
    for (let j = 0; j < QK8_0; j++) {
      view.setInt8(offset + 2 + j, roundHalfAwayFromZero(Math.fround(values[base + j]! * id)));
    }
  }
  return out;
}

/** Little-endian f16 bytes of `values`. */
export function encodeF16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToF16Bits(values[i]!), true);
  return out;
}

/** Little-endian f32 bytes of `values` (a copy, so the caller may reuse its buffer). */
export function encodeF32(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

export function encodeValues(values: Float32Array, type: EncodableType): Uint8Array {
  switch (type) {
    case GGML_TYPE.F32:
      return encodeF32(values);
    case GGML_TYPE.F16:
      return encodeF16(values);
    case GGML_TYPE.Q8_0:
      return quantizeQ8_0(values);
  }
}
