import { GgufValueType } from './constants.js';

/** A scalar metadata value as read or written (64-bit integers beyond 2^53 stay bigint). */
export type GgufScalar = number | bigint | boolean | string;

/** A metadata value to write: the GGUF type is explicit because JS numbers do not carry one. */
export type GgufWritableValue =
  | { type: Exclude<GgufValueType, GgufValueType.BOOL | GgufValueType.STRING | GgufValueType.ARRAY>; value: number | bigint }
  | { type: GgufValueType.BOOL; value: boolean }
  | { type: GgufValueType.STRING; value: string }
  | { type: GgufValueType.ARRAY; itemType: GgufValueType; value: readonly (GgufScalar | GgufWritableValue)[] };

/** One key/value pair to write, in file order. */
export interface GgufWritableKv {
  key: string;
  value: GgufWritableValue;
}

/** Shorthands for building metadata: `kv('llama.block_count', gguf.u32(2))`. */
export const gguf = {
  u8: (value: number): GgufWritableValue => ({ type: GgufValueType.UINT8, value }),
  i32: (value: number): GgufWritableValue => ({ type: GgufValueType.INT32, value }),
  u32: (value: number): GgufWritableValue => ({ type: GgufValueType.UINT32, value }),
  u64: (value: number | bigint): GgufWritableValue => ({ type: GgufValueType.UINT64, value }),
  f32: (value: number): GgufWritableValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufWritableValue => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): GgufWritableValue => ({ type: GgufValueType.STRING, value }),
  array: (itemType: GgufValueType, value: readonly (GgufScalar | GgufWritableValue)[]): GgufWritableValue => ({
    type: GgufValueType.ARRAY,
    itemType,
    value,
  }),
};

export function kv(key: string, value: GgufWritableValue): GgufWritableKv {
  return { key, value };
}
