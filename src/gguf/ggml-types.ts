/**
 * ggml tensor types as stored in GGUF tensor infos: id, name, and the block layout that
 * determines how many bytes a tensor occupies. Ids and sizes follow ggml.h / ggml-common.h;
 * ids whose support was removed from GGUF files (4, 5, 31-33, 36-38) are absent on purpose,
 * so a file using them is reported as an unknown type.
 */
export interface GgmlTypeInfo {
  /** Numeric id written in the tensor info. */
  id: number;
  /** Upper-case name as ggml prints it (F32, Q8_0, IQ4_XS...). */
  name: string;
  /** Elements per block; a row length must be a multiple of it. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q8_0: 8,
} as const;

const QK_K = 256;

const TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 18 },
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 20 },
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 22 },
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 24 },
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34 },
  { id: 9, name: 'Q8_1', blockSize: 32, typeSize: 36 },
  { id: 10, name: 'Q2_K', blockSize: QK_K, typeSize: 84 },
  { id: 11, name: 'Q3_K', blockSize: QK_K, typeSize: 110 },
  { id: 12, name: 'Q4_K', blockSize: QK_K, typeSize: 144 },
  { id: 13, name: 'Q5_K', blockSize: QK_K, typeSize: 176 },
  { id: 14, name: 'Q6_K', blockSize: QK_K, typeSize: 210 },
  { id: 15, name: 'Q8_K', blockSize: QK_K, typeSize: 292 },
  { id: 16, name: 'IQ2_XXS', blockSize: QK_K, typeSize: 66 },
  { id: 17, name: 'IQ2_XS', blockSize: QK_K, typeSize: 74 },
  { id: 18, name: 'IQ3_XXS', blockSize: QK_K, typeSize: 98 },
  { id: 19, name: 'IQ1_S', blockSize: QK_K, typeSize: 50 },
  { id: 20, name: 'IQ4_NL', blockSize: 32, typeSize: 18 },
  { id: 21, name: 'IQ3_S', blockSize: QK_K, typeSize: 110 },
  { id: 22, name: 'IQ2_S', blockSize: QK_K, typeSize: 82 },
  { id: 23, name: 'IQ4_XS', blockSize: QK_K, typeSize: 136 },
  { id: 24, name: 'I8', blockSize: 1, typeSize: 1 },
  { id: 25, name: 'I16', blockSize: 1, typeSize: 2 },
  { id: 26, name: 'I32', blockSize: 1, typeSize: 4 },
  { id: 27, name: 'I64', blockSize: 1, typeSize: 8 },
  { id: 28, name: 'F64', blockSize: 1, typeSize: 8 },
  { id: 29, name: 'IQ1_M', blockSize: QK_K, typeSize: 56 },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2 },
  { id: 34, name: 'TQ1_0', blockSize: QK_K, typeSize: 54 },
  { id: 35, name: 'TQ2_0', blockSize: QK_K, typeSize: 66 },
  { id: 39, name: 'MXFP4', blockSize: 32, typeSize: 17 },
  { id: 40, name: 'NVFP4', blockSize: 64, typeSize: 36 },
  { id: 41, name: 'Q1_0', blockSize: 128, typeSize: 18 },
  { id: 42, name: 'Q2_0', blockSize: 64, typeSize: 18 },
];

const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** The type with this id, or undefined for ids ggml does not (or no longer) accept in files. */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

/** The type's name, or `type<id>` for an unknown id (for messages and statistics). */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `type${id}`;
}

/** Number of elements of a tensor with these dimensions (1 for zero dimensions, like ggml). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Bytes a tensor occupies in the data section, or undefined when the type is unknown or the
 * first dimension is not a whole number of blocks (ggml rejects such tensors).
 */
export function tensorByteSize(dims: readonly number[], typeId: number): number | undefined {
  const info = BY_ID.get(typeId);
  if (!info) return undefined;
  const rowLength = dims.length === 0 ? 1 : dims[0]!;
  if (rowLength % info.blockSize !== 0) return undefined;
  return (elementCount(dims) / info.blockSize) * info.typeSize;
}
