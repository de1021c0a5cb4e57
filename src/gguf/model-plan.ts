import { AppError } from '../errors.js';
import { GGUF_DEFAULT_ALIGNMENT, GgufValueType } from './constants.js';
import { elementCount, GGML_TYPE } from './ggml-types.js';
import { gguf, kv, type GgufWritableKv } from './metadata-values.js';
import { MODEL_PRESETS, type PresetName } from './presets.js';
import { Sfc32 } from './prng.js';
import { encodeValues, QK8_0, type EncodableType } from './quantize.js';
import { BOS_TOKEN_ID, BYTE_TOKEN_BASE, buildVocabulary, CHATML_TEMPLATE, EOS_TOKEN_ID, THINK_CLOSE, THINK_OPEN, THINKING_TEMPLATE } from './tokenizer.js';
import type { GgufTensorSource } from './writer.js';

/** Weight encodings the generator offers, with the general.file_type (llama_ftype) each implies. */
export const WEIGHT_TYPES = {
  f32: { ggmlType: GGML_TYPE.F32, fileType: 0 },
  f16: { ggmlType: GGML_TYPE.F16, fileType: 1 },
  q8_0: { ggmlType: GGML_TYPE.Q8_0, fileType: 7 },
} as const satisfies Record<string, { ggmlType: EncodableType; fileType: number }>;

export type WeightType = keyof typeof WEIGHT_TYPES;

export interface ModelPlanOptions {
  /** Model shape. */
  preset: PresetName;
  /** Encoding of the 2-D weights; norms are always F32. */
  type: WeightType;
  /** PRNG seed, an integer in [0, 2^32). Defaults to 0. */
  seed?: number;
  /** llama.context_length written to the file. Defaults to the preset's. */
  contextLength?: number;
  /** general.name. Defaults to "random-<preset>-<type>". */
  name?: string;
  /**
   * Keep random embeddings for the byte tokens 0x80-0xFF. A random model that emits them
   * produces invalid UTF-8, so by default their rows are zero (logit exactly 0, never the
   * greedy choice). Defaults to false.
   */
  allowInvalidUtf8?: boolean;
  /**
   * Make a reranker instead of a chat model: the qwen3 architecture (llama's layers plus
   * per-head query/key norms) with pooling_type rank and a two-label classification head
   * (cls.output.weight), the shape of Qwen3-Reranker GGUFs. llama.cpp pools the last token
   * through the head and softmaxes it, so the first label's probability is the score.
   * qwen3 rather than BERT because it reuses this file's tokenizer and layer layout.
   * Defaults to false.
   */
  reranker?: boolean;
  /**
   * Make a reasoning model: `<think>` and `</think>` take the last two token ids and the chat
   * template is THINKING_TEMPLATE (replies open inside `<think>`; `enable_thinking=false` closes
   * it). The `</think>` embedding row is drawn THINK_CLOSE_SCALE times wider than the others, so
   * that the random model ends its reasoning within a few tokens and answers after it (greedy
   * decoding then gives reasoning, `</think>`, answer). Defaults to false.
   */
  thinking?: boolean;
}

export interface ModelPlan {
  metadata: GgufWritableKv[];
  tensors: GgufTensorSource[];
  /** Sum of the tensors' element counts. */
  parameters: number;
}

/** Values generated and encoded per chunk; a multiple of the Q8_0 block size. */
const CHUNK_ELEMENTS = 1 << 16;
const EMBEDDING_STD = 0.02;
const SQRT3 = Math.sqrt(3);
/** LLAMA_POOLING_TYPE_RANK in llama.h. */
const RANK_POOLING_TYPE = 4;
/** The classifier's labels, as Qwen3-Reranker names them: the score is P(yes). */
const RERANKER_LABELS = ['yes', 'no'] as const;
/** How much wider the `</think>` embedding row of a reasoning model is drawn (see ModelPlanOptions.thinking). */
const THINK_CLOSE_SCALE = 4;

interface WeightSpec {
  /** Stream index for the PRNG: the tensor's position in the file. */
  index: number;
  seed: number;
  dims: [number, number];
  /** Half-width of the uniform distribution (std × √3). */
  range: number;
  /** Rows (dims[1] indexes) whose values are forced to zero after drawing them. */
  zeroRows?: { from: number; to: number };
  /** One row whose values are multiplied by `factor` after drawing them. */
  scaledRow?: { row: number; factor: number };
}

/**
 * Draws a weight tensor's values chunk by chunk. Values are always drawn (then maybe zeroed),
 * so the PRNG sequence, and with it every other value, does not depend on the zeroing.
 */
function* weightChunks(spec: WeightSpec, type: EncodableType): Generator<Uint8Array> {
  const rng = Sfc32.forStream(spec.seed, spec.index);
  const [rowLength] = spec.dims;
  const total = elementCount(spec.dims);
  const buffer = new Float32Array(CHUNK_ELEMENTS);
  for (let start = 0; start < total; start += CHUNK_ELEMENTS) {
    const count = Math.min(CHUNK_ELEMENTS, total - start);
    const values = count === CHUNK_ELEMENTS ? buffer : buffer.subarray(0, count);
    for (let i = 0; i < count; i++) {
      const draw = (2 * rng.nextUnit() - 1) * spec.range;
      const row = Math.floor((start + i) / rowLength);
      const scale = spec.scaledRow?.row === row ? spec.scaledRow.factor : 1;
      values[i] = spec.zeroRows && row >= spec.zeroRows.from && row <= spec.zeroRows.to ? 0 : draw * scale;
    }
    yield encodeValues(values, type);
  }
}

function* onesF32(length: number): Generator<Uint8Array> {
  yield encodeValues(new Float32Array(length).fill(1), GGML_TYPE.F32);
}

function checkOptions(options: ModelPlanOptions): void {
  if (!Object.prototype.hasOwnProperty.call(MODEL_PRESETS, options.preset)) {
    throw new AppError('bad_request', `unknown model preset "${options.preset}": expected one of ${Object.keys(MODEL_PRESETS).join(', ')}`);
  }
  if (!Object.prototype.hasOwnProperty.call(WEIGHT_TYPES, options.type)) {
    throw new AppError('bad_request', `unknown weight type "${options.type}": expected one of ${Object.keys(WEIGHT_TYPES).join(', ')}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new AppError('bad_request', `invalid seed ${seed}: expected an integer from 0 to 4294967295`);
  }
  const ctx = options.contextLength;
  if (ctx !== undefined && (!Number.isInteger(ctx) || ctx < 1 || ctx > 0xffffffff)) {
    throw new AppError('bad_request', `invalid context length ${ctx}: expected a positive integer`);
  }
}

/**
 * Everything a generated llama-architecture GGUF holds, with tensor data still unproduced:
 * the generator writes it as is, and tests alter it to build damaged files.
 */
export function planModel(options: ModelPlanOptions): ModelPlan {
  checkOptions(options);
  const p = MODEL_PRESETS[options.preset];
  const { ggmlType, fileType } = WEIGHT_TYPES[options.type];
  const seed = options.seed ?? 0;
  const headDim = p.embeddingLength / p.headCount;
  const kvDim = headDim * p.headCountKv;
  for (const rowLength of [p.embeddingLength, p.feedForwardLength]) {
    if (ggmlType === GGML_TYPE.Q8_0 && rowLength % QK8_0 !== 0) {
      throw new AppError('unsupported', `Q8_0 needs row lengths divisible by ${QK8_0}, got ${rowLength}`);
    }
  }
  const thinking = options.thinking === true;
  const vocab = buildVocabulary(p.vocabSize, thinking ? [THINK_OPEN, THINK_CLOSE] : []);
  const arch = options.reranker === true ? 'qwen3' : 'llama';
  const metadata: GgufWritableKv[] = [
    kv('general.architecture', gguf.str(arch)),
    kv('general.name', gguf.str(options.name ?? `random-${options.preset}-${options.type}`)),
    kv('general.alignment', gguf.u32(GGUF_DEFAULT_ALIGNMENT)),
    kv('general.file_type', gguf.u32(fileType)),
    kv('general.quantization_version', gguf.u32(2)),
    kv(`${arch}.vocab_size`, gguf.u32(p.vocabSize)),
    kv(`${arch}.context_length`, gguf.u32(options.contextLength ?? p.contextLength)),
    kv(`${arch}.embedding_length`, gguf.u32(p.embeddingLength)),
    kv(`${arch}.block_count`, gguf.u32(p.blockCount)),
    kv(`${arch}.feed_forward_length`, gguf.u32(p.feedForwardLength)),
    kv(`${arch}.attention.head_count`, gguf.u32(p.headCount)),
    kv(`${arch}.attention.head_count_kv`, gguf.u32(p.headCountKv)),
    kv(`${arch}.rope.dimension_count`, gguf.u32(headDim)),
    kv(`${arch}.rope.freq_base`, gguf.f32(p.ropeFreqBase)),
    kv(`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(p.rmsEpsilon)),
    kv('tokenizer.ggml.model', gguf.str('gpt2')),
    kv('tokenizer.ggml.pre', gguf.str('smollm')),
    kv('tokenizer.ggml.tokens', gguf.array(GgufValueType.STRING, vocab.tokens)),
    kv('tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, vocab.tokenTypes)),
    kv('tokenizer.ggml.merges', gguf.array(GgufValueType.STRING, vocab.merges)),
    kv('tokenizer.ggml.bos_token_id', gguf.u32(BOS_TOKEN_ID)),
    kv('tokenizer.ggml.eos_token_id', gguf.u32(EOS_TOKEN_ID)),
    kv('tokenizer.ggml.unknown_token_id', gguf.u32(0)),
    kv('tokenizer.ggml.padding_token_id', gguf.u32(EOS_TOKEN_ID)),
    kv('tokenizer.ggml.add_bos_token', gguf.bool(false)),
    kv('tokenizer.chat_template', gguf.str(thinking ? THINKING_TEMPLATE : CHATML_TEMPLATE)),
  ];
  if (options.reranker === true) {
    metadata.push(
      // LLAMA_POOLING_TYPE_RANK in llama.h.
      kv(`${arch}.pooling_type`, gguf.u32(RANK_POOLING_TYPE)),
      kv(`${arch}.classifier.output_labels`, gguf.array(GgufValueType.STRING, [...RERANKER_LABELS])),
    );
  }

  const tensors: GgufTensorSource[] = [];
  const addWeight = (name: string, dims: [number, number], std: number, zeroRows?: WeightSpec['zeroRows'], scaledRow?: WeightSpec['scaledRow']) => {
    const spec: WeightSpec = { index: tensors.length, seed, dims, range: std * SQRT3, zeroRows, ...(scaledRow ? { scaledRow } : {}) };
    tensors.push({ name, dims, type: ggmlType, data: () => weightChunks(spec, ggmlType) });
  };
  const addNorm = (name: string, length = p.embeddingLength) => {
    tensors.push({ name, dims: [length], type: GGML_TYPE.F32, data: () => onesF32(length) });
  };
  const projection = (fanIn: number) => 1 / Math.sqrt(fanIn);

  const invalidUtf8Rows = { from: BYTE_TOKEN_BASE + 0x80, to: BYTE_TOKEN_BASE + 0xff };
  // The vocabulary ends with `</think>` when thinking: its row is drawn wider (see ModelPlanOptions.thinking).
  const thinkClose = thinking ? { row: p.vocabSize - 1, factor: THINK_CLOSE_SCALE } : undefined;
  addWeight('token_embd.weight', [p.embeddingLength, p.vocabSize], EMBEDDING_STD, options.allowInvalidUtf8 ? undefined : invalidUtf8Rows, thinkClose);
  for (let layer = 0; layer < p.blockCount; layer++) {
    const blk = `blk.${layer}`;
    addNorm(`${blk}.attn_norm.weight`);
    addWeight(`${blk}.attn_q.weight`, [p.embeddingLength, p.embeddingLength], projection(p.embeddingLength));
    addWeight(`${blk}.attn_k.weight`, [p.embeddingLength, kvDim], projection(p.embeddingLength));
    addWeight(`${blk}.attn_v.weight`, [p.embeddingLength, kvDim], projection(p.embeddingLength));
    addWeight(`${blk}.attn_output.weight`, [p.embeddingLength, p.embeddingLength], projection(p.embeddingLength));
    if (options.reranker === true) {
      addNorm(`${blk}.attn_q_norm.weight`, headDim);
      addNorm(`${blk}.attn_k_norm.weight`, headDim);
    }
    addNorm(`${blk}.ffn_norm.weight`);
    addWeight(`${blk}.ffn_gate.weight`, [p.embeddingLength, p.feedForwardLength], projection(p.embeddingLength));
    addWeight(`${blk}.ffn_up.weight`, [p.embeddingLength, p.feedForwardLength], projection(p.embeddingLength));
    addWeight(`${blk}.ffn_down.weight`, [p.feedForwardLength, p.embeddingLength], projection(p.feedForwardLength));
  }
  // No output.weight: the embedding is tied, as in SmolLM2.
  addNorm('output_norm.weight');
  if (options.reranker === true) {
    // F32 whatever the weight type: its rows (one per label) are only as long as the hidden size.
    const spec: WeightSpec = { index: tensors.length, seed, dims: [p.embeddingLength, RERANKER_LABELS.length], range: projection(p.embeddingLength) * SQRT3 };
    tensors.push({ name: 'cls.output.weight', dims: spec.dims, type: GGML_TYPE.F32, data: () => weightChunks(spec, GGML_TYPE.F32) });
  }

  const parameters = tensors.reduce((sum, t) => sum + elementCount(t.dims), 0);
  return { metadata, tensors, parameters };
}
