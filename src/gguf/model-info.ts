import { elementCount, ggmlTypeName } from './ggml-types.js';
import { metadataStrings } from './metadata-strings.js';
import { isGgufArray, metadataNumber, metadataString, metadataValue, type GgufFile } from './types.js';

/** llama.cpp's llama_ftype names (general.file_type); the gaps are removed types. */
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S',
  29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE',
};

export interface ModelInfo {
  /** general.architecture, or '' when absent (a later shard of a split model). */
  architecture: string;
  /** Sum of the tensors' element counts (of this file only, for a shard). */
  parameters: number;
  /** File type name such as Q8_0 or Q4_K_M; '' for a file without tensors or file type. */
  quantization: string;
  /** <arch>.context_length, the trained context. */
  contextLength?: number;
  /** general.name. */
  name?: string;
  /** split.count, or 1 for a single file. */
  splitCount: number;
  /** Every metadata entry as a string, as in Docker's model config `gguf` map. */
  kv: Record<string, string>;
  embeddingLength?: number;
  blockCount?: number;
  /** attention.head_count (the largest, when stored per layer). */
  headCount?: number;
  /** attention.head_count_kv (the largest, when stored per layer). */
  headCountKv?: number;
  /** Length of tokenizer.ggml.tokens, else <arch>.vocab_size. */
  vocabSize?: number;
}

/** A per-layer or single numeric hyper-parameter as one number (the largest). */
function maxNumber(file: GgufFile, key: string): number | undefined {
  const value = metadataValue(file, key);
  if (isGgufArray(value)) {
    const numbers = value.items.filter((v) => typeof v === 'number' || typeof v === 'bigint').map(Number);
    return numbers.length > 0 ? Math.max(...numbers) : undefined;
  }
  return metadataNumber(file, key);
}

/** The most common tensor type, for files whose general.file_type is absent or unknown. */
function dominantTensorType(file: GgufFile): string {
  const counts = new Map<number, number>();
  for (const t of file.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  let best: number | undefined;
  for (const [type, count] of counts) if (best === undefined || count > counts.get(best)!) best = type;
  return best === undefined ? '' : ggmlTypeName(best);
}

/** The facts the catalog and the API show about a model, from its (first) GGUF header. */
export function describeModel(file: GgufFile): ModelInfo {
  const architecture = metadataString(file, 'general.architecture') ?? '';
  const fileType = metadataNumber(file, 'general.file_type');
  const quantization = (fileType !== undefined ? FILE_TYPE_NAMES[fileType] : undefined) ?? dominantTensorType(file);
  const tokens = metadataValue(file, 'tokenizer.ggml.tokens');
  const arch = (key: string) => metadataNumber(file, `${architecture}.${key}`);
  return {
    architecture,
    parameters: file.tensors.reduce((sum, t) => sum + elementCount(t.dims), 0),
    quantization,
    contextLength: arch('context_length'),
    name: metadataString(file, 'general.name'),
    splitCount: Math.max(1, metadataNumber(file, 'split.count') ?? 1),
    kv: metadataStrings(file),
    embeddingLength: arch('embedding_length'),
    blockCount: arch('block_count'),
    headCount: maxNumber(file, `${architecture}.attention.head_count`),
    headCountKv: maxNumber(file, `${architecture}.attention.head_count_kv`),
    vocabSize: isGgufArray(tokens) ? tokens.length : arch('vocab_size'),
  };
}

/** The llama_ftype name for a general.file_type value, or undefined for an unknown one. */
export function fileTypeName(fileType: number): string | undefined {
  return FILE_TYPE_NAMES[fileType];
}
