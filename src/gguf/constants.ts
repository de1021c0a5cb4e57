/** GGUF container constants (ggml's gguf.h): magic, versions, value types. */

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;

/** The version this module writes; the reader also accepts 2 (same layout, 64-bit counts). */
export const GGUF_VERSION = 3;

/** Alignment of the data section and of every tensor's data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Type tags of metadata values. */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Bytes of a fixed-size value type; undefined for STRING and ARRAY. */
export function fixedValueSize(type: GgufValueType): number | undefined {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    default:
      return undefined;
  }
}

export function isGgufValueType(value: number): value is GgufValueType {
  return Number.isInteger(value) && value >= 0 && value <= GgufValueType.FLOAT64;
}
