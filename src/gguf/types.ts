import type { GgufValueType } from './constants.js';
import type { GgufScalar } from './metadata-values.js';

/** An array value. Long arrays (a vocabulary) keep their length but only their first items. */
export interface GgufArray {
  itemType: GgufValueType;
  /** Number of items in the file. */
  length: number;
  /** The first items, up to the reader's cap; all of them when `truncated` is false. */
  items: GgufValue[];
  truncated: boolean;
}

/**
 * A metadata value as read. Integers are numbers, except 64-bit ones beyond 2^53, which are
 * bigints. FLOAT32 values are the shortest decimal that rounds to the stored float (1e-5, not
 * 9.99999974e-6).
 */
export type GgufValue = GgufScalar | GgufArray;

export interface GgufMetadataEntry {
  type: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  /** ggml type id, as stored (it may be unknown; validation reports that). */
  type: number;
  /** Offset of the data relative to the start of the data section. */
  offset: number;
}

/** What a GGUF header says, read without touching the tensor data. */
export interface GgufFile {
  path: string;
  version: number;
  fileSize: number;
  /** Metadata in file order (a Map keeps the order and accepts any key). */
  metadata: Map<string, GgufMetadataEntry>;
  tensors: GgufTensorInfo[];
  /** general.alignment, or 32. */
  alignment: number;
  /** Absolute file offset of the data section (the end of the header, aligned). */
  dataOffset: number;
}

export function isGgufArray(value: GgufValue | undefined): value is GgufArray {
  return typeof value === 'object' && value !== null && 'itemType' in value;
}

/** A metadata value, or undefined when the key is absent. */
export function metadataValue(file: GgufFile, key: string): GgufValue | undefined {
  return file.metadata.get(key)?.value;
}

/** A numeric metadata value (any integer or float type), or undefined when absent or not a number. */
export function metadataNumber(file: GgufFile, key: string): number | undefined {
  const value = metadataValue(file, key);
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** A string metadata value, or undefined when absent or not a string. */
export function metadataString(file: GgufFile, key: string): string | undefined {
  const value = metadataValue(file, key);
  return typeof value === 'string' ? value : undefined;
}
