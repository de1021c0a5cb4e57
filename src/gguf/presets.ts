/** Model shapes the generator can produce; the SmolLM2 ones match the real models' shapes. */
export interface ModelPreset {
  vocabSize: number;
  /** Hidden size (llama.embedding_length). */
  embeddingLength: number;
  /** Transformer layers (llama.block_count). */
  blockCount: number;
  headCount: number;
  headCountKv: number;
  feedForwardLength: number;
  /** Trained context length written to the file (llama.context_length). */
  contextLength: number;
  ropeFreqBase: number;
  rmsEpsilon: number;
}

export type PresetName = 'tiny' | 'smollm2-135m' | 'smollm2-360m';

export const MODEL_PRESETS: Readonly<Record<PresetName, ModelPreset>> = {
  tiny: {
    vocabSize: 320,
    embeddingLength: 64,
    blockCount: 2,
    headCount: 4,
    headCountKv: 2,
    feedForwardLength: 192,
    contextLength: 512,
    ropeFreqBase: 10000,
    rmsEpsilon: 1e-5,
  },
  'smollm2-135m': {
    vocabSize: 49152,
    embeddingLength: 576,
    blockCount: 30,
    headCount: 9,
    headCountKv: 3,
    feedForwardLength: 1536,
    contextLength: 8192,
    ropeFreqBase: 100000,
    rmsEpsilon: 1e-5,
  },
  'smollm2-360m': {
    vocabSize: 49152,
    embeddingLength: 960,
    blockCount: 32,
    headCount: 15,
    headCountKv: 5,
    feedForwardLength: 2560,
    contextLength: 8192,
    ropeFreqBase: 100000,
    rmsEpsilon: 1e-5,
  },
};

export function isPresetName(value: string): value is PresetName {
  return Object.prototype.hasOwnProperty.call(MODEL_PRESETS, value);
}
