/** GGUF tooling: a streaming writer, a random-model generator, a bounded header reader, validation and model facts. */
export { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgufValueType } from './constants.js';
export { elementCount, GGML_TYPE, ggmlTypeInfo, ggmlTypeName, tensorByteSize, type GgmlTypeInfo } from './ggml-types.js';
export { f16BitsToF32, f32ToF16Bits } from './half.js';
export { quantizeQ8_0 } from './quantize.js';
export { gguf, kv, type GgufScalar, type GgufWritableKv, type GgufWritableValue } from './metadata-values.js';
export { writeGgufFile, type GgufTensorSource, type WriteGgufOptions, type WriteGgufResult } from './writer.js';
export { MODEL_PRESETS, isPresetName, type ModelPreset, type PresetName } from './presets.js';
export { planModel, WEIGHT_TYPES, type ModelPlan, type ModelPlanOptions, type WeightType } from './model-plan.js';
export { generateModel, type GenerateModelOptions, type GeneratedModel } from './generate.js';
export {
  isGgufArray,
  metadataNumber,
  metadataString,
  metadataValue,
  type GgufArray,
  type GgufFile,
  type GgufMetadataEntry,
  type GgufTensorInfo,
  type GgufValue,
} from './types.js';
export { DEFAULT_MAX_ARRAY_ITEMS, readGgufFile, type ReadGgufOptions } from './reader.js';
export { validateGgufFile, validateModelFile } from './validate.js';
export { describeModel, fileTypeName, type ModelInfo } from './model-info.js';
export { metadataStrings, metadataValueString, MAX_LISTED_ARRAY_ITEMS } from './metadata-strings.js';
