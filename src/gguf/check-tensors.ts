import { elementCount, ggmlTypeInfo } from './ggml-types.js';
import type { GgufFile } from './types.js';

/** ggml's GGML_MAX_NAME: names must be shorter (they are stored in a 64-byte field). */
const MAX_NAME_BYTES = 64;

export interface TensorProblems {
  /** Malformed or truncated: the file cannot be right. */
  invalid: string[];
  /** Well-formed but beyond what this build knows (a newer tensor type). */
  unsupported: string[];
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * The tensor-info rules of ggml's GGUF loader (unique names, known types, whole blocks per
 * row, data packed in order at aligned offsets) plus the one it leaves to mmap: the data
 * must lie inside the file, i.e. the file is not truncated.
 */
export function checkTensors(file: GgufFile): TensorProblems {
  const invalid: string[] = [];
  const unsupported: string[] = [];
  const seen = new Set<string>();
  let expectedOffset = 0;
  for (const tensor of file.tensors) {
    const what = `tensor "${tensor.name}"`;
    if (tensor.name.length === 0) invalid.push('a tensor has an empty name');
    if (Buffer.byteLength(tensor.name) >= MAX_NAME_BYTES) invalid.push(`${what} has a name of ${MAX_NAME_BYTES} bytes or more`);
    if (seen.has(tensor.name)) invalid.push(`duplicate tensor name "${tensor.name}"`);
    seen.add(tensor.name);
    const type = ggmlTypeInfo(tensor.type);
    if (!type) {
      unsupported.push(`${what} has unknown ggml type ${tensor.type}`);
      break; // its size is unknown, so later offsets cannot be checked
    }
    if (tensor.dims.some((d) => d < 1)) invalid.push(`${what} has a zero dimension [${tensor.dims.join(', ')}]`);
    const elements = elementCount(tensor.dims);
    if (!Number.isSafeInteger(elements)) {
      invalid.push(`${what} has too many elements [${tensor.dims.join(', ')}]`);
      break;
    }
    const rowLength = tensor.dims[0] ?? 1;
    if (rowLength % type.blockSize !== 0) {
      invalid.push(`${what} of type ${type.name} has rows of ${rowLength} elements, not a multiple of its block size ${type.blockSize}`);
      break;
    }
    const size = (elements / type.blockSize) * type.typeSize;
    if (tensor.offset % file.alignment !== 0) {
      invalid.push(`${what} data offset ${tensor.offset} is not a multiple of the alignment ${file.alignment}`);
    } else if (tensor.offset !== expectedOffset) {
      invalid.push(`${what} data offset ${tensor.offset} should be ${expectedOffset} (tensor data must be packed in order)`);
    }
    const end = file.dataOffset + tensor.offset + size;
    if (end > file.fileSize) {
      invalid.push(`${what} data ends at byte ${end}, past the end of the file (${file.fileSize} bytes): the file is truncated or the offset is wrong`);
    }
    expectedOffset = alignUp(tensor.offset + size, file.alignment);
    if (invalid.length >= 5) break; // enough to explain; a hostile file could list a million
  }
  return { invalid, unsupported };
}
