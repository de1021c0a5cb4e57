import { isGgufArray, metadataString, metadataValue, type GgufFile, type GgufValue } from './types.js';

/**
 * Hyper-parameter checks for the values that make llama.cpp GGML_ASSERT (abort the whole
 * process) or build a graph from nonsense. Each returns problems as sentences; the caller
 * turns them into one error.
 */

/** llama.cpp's LLAMA_MAX_LAYERS and LLAMA_MAX_EXPERTS. */
const MAX_LAYERS = 512;
const MAX_EXPERTS = 1024;

/**
 * Architectures with recurrent (attention-free) layers: they legitimately store 0 heads or a
 * 0 feed-forward length, globally (mamba, rwkv) or for some layers (hybrids).
 */
const RECURRENT_OR_HYBRID = new Set([
  'mamba', 'mamba2', 'rwkv6', 'rwkv6qwen2', 'rwkv7', 'arwkv7', 'jamba', 'falcon-h1', 'lfm2', 'lfm2moe',
  'granitehybrid', 'nemotron_h', 'nemotron_h_moe', 'plamo2', 'qwen3next', 'qwen35', 'qwen35moe', 'kimi-linear',
]);

/** Architectures whose files carry no transformer hyper-parameters (llama.cpp skips them too). */
const NO_HPARAMS = new Set(['clip']);

type Problems = string[];

/** A numeric value or per-layer array as a list of numbers; undefined when absent, null when not numeric. */
function numbers(value: GgufValue | undefined): number[] | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  if (isGgufArray(value)) {
    const items = value.items.map((v) => (typeof v === 'number' || typeof v === 'bigint' ? Number(v) : NaN));
    return items.some(Number.isNaN) ? null : items;
  }
  return null;
}

export function checkHyperparameters(file: GgufFile): Problems {
  const problems: Problems = [];
  const arch = metadataString(file, 'general.architecture');
  const splitIndex = Number(metadataValue(file, 'split.no') ?? 0);
  if (arch === undefined) {
    // Only the first shard of a split model carries the model's metadata.
    if (splitIndex === 0) problems.push('general.architecture is missing or not a string');
    return problems;
  }
  if (NO_HPARAMS.has(arch)) return problems;
  const recurrent = RECURRENT_OR_HYBRID.has(arch);
  const read = (key: string, required: boolean): number[] | undefined => {
    const full = `${arch}.${key}`;
    const values = numbers(metadataValue(file, full));
    if (values === null) problems.push(`${full} is not a number`);
    else if (values === undefined && required) problems.push(`${full} is missing`);
    return values ?? undefined;
  };

  const blockCount = read('block_count', true);
  const layers = blockCount?.[0];
  if (layers !== undefined && (layers < 1 || layers > MAX_LAYERS)) {
    problems.push(`${arch}.block_count is ${layers}; it must be from 1 to ${MAX_LAYERS}`);
  }
  const embedding = read('embedding_length', true)?.[0];
  if (embedding !== undefined && embedding < 1) problems.push(`${arch}.embedding_length is ${embedding}; it must be greater than 0`);

  const heads = read('attention.head_count', false);
  const headsKv = read('attention.head_count_kv', false);
  const ffn = read('feed_forward_length', false);
  if (!recurrent) {
    for (const [key, values] of [['attention.head_count', heads], ['attention.head_count_kv', headsKv], ['feed_forward_length', ffn]] as const) {
      const zero = values?.findIndex((v) => v < 1) ?? -1;
      if (values && zero >= 0) {
        const where = values.length > 1 ? ` for layer ${zero}` : '';
        problems.push(`${arch}.${key} is ${values[zero]}${where}; it must be greater than 0`);
      }
    }
  }
  if (heads && headsKv) {
    const n = Math.max(heads.length, headsKv.length);
    for (let i = 0; i < n; i++) {
      const h = heads[heads.length === 1 ? 0 : i] ?? 0;
      const kv = headsKv[headsKv.length === 1 ? 0 : i] ?? 0;
      if (h > 0 && kv > 0 && h % kv !== 0) {
        const where = n > 1 ? ` for layer ${i}` : '';
        problems.push(`${arch}.attention.head_count_kv ${kv} does not divide ${arch}.attention.head_count ${h}${where}`);
        break;
      }
    }
  }
  // Without an explicit key length, llama.cpp derives the head size as embedding_length / head_count.
  const headsMax = heads ? Math.max(...heads) : 0;
  const keyLength = metadataValue(file, `${arch}.attention.key_length`);
  if (embedding !== undefined && embedding > 0 && headsMax > 0 && keyLength === undefined && embedding % headsMax !== 0) {
    problems.push(`${arch}.embedding_length ${embedding} is not divisible by ${arch}.attention.head_count ${headsMax}`);
  }

  checkExperts(arch, read, problems);
  const nextn = read('nextn_predict_layers', false)?.[0];
  if (nextn !== undefined && layers !== undefined && nextn > layers) {
    problems.push(`${arch}.nextn_predict_layers ${nextn} exceeds ${arch}.block_count ${layers}`);
  }
  return problems;
}

function checkExperts(arch: string, read: (key: string, required: boolean) => number[] | undefined, problems: Problems): void {
  const experts = read('expert_count', false)?.[0] ?? 0;
  const used = read('expert_used_count', false);
  const usedMax = used && used.length > 0 ? Math.max(...used) : 0;
  if (experts > MAX_EXPERTS) problems.push(`${arch}.expert_count is ${experts}; at most ${MAX_EXPERTS} are supported`);
  if (usedMax > experts) problems.push(`${arch}.expert_used_count ${usedMax} exceeds ${arch}.expert_count ${experts}`);
  if (experts > 0 && usedMax === 0) problems.push(`${arch}.expert_used_count must be greater than 0 when ${arch}.expert_count is ${experts}`);
}
