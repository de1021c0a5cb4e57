/**
 * The default memory estimate of a model before it is loaded: the file (weights are mapped or
 * copied whole), the KV cache from the GGUF hyper-parameters, the logits buffer (one float per
 * vocabulary token for every token of a batch, which dominates the compute buffers of small
 * models with large vocabularies), and a fixed overhead for the rest. Measured on CPU with a
 * generated SmolLM2-135M q8_0 (144 MB, 49152 tokens): llama.cpp reported 258 MB at a 512-token
 * context, of which ~100 MB were the logits buffer that an estimate of file + KV + 32 MiB missed;
 * with it the estimate errs high by about a tenth, which is the safe side
 * (test/engine/memory-estimate.test.ts holds it to that).
 */
import { stat } from 'node:fs/promises';
import { describeModel } from '../gguf/model-info.js';
import { readGgufFile } from '../gguf/reader.js';
import type { LoadSpec, ModelGeometry } from './types.js';

/** Compute buffers besides the logits, and allocator slack. */
export const LOAD_OVERHEAD_BYTES = 32 * 2 ** 20;
/** K and V entries are f16 by default. */
const KV_BYTES_PER_VALUE = 2;
/** Logits are f32. */
const LOGIT_BYTES = 4;
/** node-llama-cpp's default batch: min(context x sequences, 512) tokens. */
const DEFAULT_MAX_BATCH = 512;

/** @param kvCaches KV caches of contextSize cells: 1 when the sequences share one, else one per sequence. */
export async function estimateModelBytes(spec: LoadSpec, contextSize: number, kvCaches: number): Promise<number> {
  const fileSize = (await stat(spec.modelPath)).size;
  const fromHeader = spec.geometry === undefined || spec.vocabularySize === undefined ? await readHeader(spec.modelPath) : undefined;
  const geometry = spec.geometry ?? fromHeader?.geometry;
  const vocabularySize = spec.vocabularySize ?? fromHeader?.vocabularySize;
  let kvBytes = 0;
  if (geometry) {
    const headDim = geometry.embeddingLength / geometry.headCount;
    kvBytes = geometry.blockCount * (geometry.headCountKv ?? geometry.headCount) * headDim * 2 * KV_BYTES_PER_VALUE * contextSize * kvCaches;
  }
  // Cells in all caches together bound the default batch (a shared cache holds them all).
  const batch = spec.settings.batchSize ?? Math.min(contextSize * kvCaches, DEFAULT_MAX_BATCH);
  // An embedding context outputs vectors, not logits.
  const logitBytes = spec.mode === 'embedding' ? 0 : (vocabularySize ?? 0) * batch * LOGIT_BYTES;
  return fileSize + kvBytes + logitBytes + LOAD_OVERHEAD_BYTES;
}

/** For callers that did not read the header themselves. */
async function readHeader(modelPath: string): Promise<{ geometry?: ModelGeometry; vocabularySize?: number } | undefined> {
  try {
    const { embeddingLength, blockCount, headCount, headCountKv, vocabSize } = describeModel(await readGgufFile(modelPath));
    const geometry = embeddingLength && blockCount && headCount ? { embeddingLength, blockCount, headCount, headCountKv } : undefined;
    return { geometry, vocabularySize: vocabSize };
  } catch {
    // An unreadable header fails at load with a precise error; estimate from the file alone here.
    return undefined;
  }
}
