import { isGgufArray, metadataNumber, metadataString, metadataValue, type GgufFile } from './types.js';

/**
 * Checks on what values mean, for the cases found to abort llama.cpp (GGML_ASSERT, an uncaught
 * std::out_of_range) or to stall a Worker although every value is well-typed. They are the fast
 * first line only: the admission check (a child process that loads the file) catches what no
 * list of rules foresees.
 */

/** llama.cpp's LLAMA_ROPE_SCALING_TYPES names; any other string aborts the load. */
const ROPE_SCALING_TYPES = new Set(['none', 'linear', 'yarn', 'longrope']);
/** Tokenizer models llama.cpp can tokenize with; 'none'/'no_vocab' loads but aborts on the first tokenize. */
const TOKENIZER_MODELS = new Set(['llama', 'gpt2', 'bert', 't5', 'rwkv', 'plamo2']);
/** Far above any real chat template (the largest are tens of KiB); parsing and rendering grow with it. */
export const MAX_CHAT_TEMPLATE_BYTES = 256 * 1024;

export function checkSemantics(file: GgufFile): string[] {
  const problems: string[] = [];
  const arch = metadataString(file, 'general.architecture');
  if (arch !== undefined) {
    const scaling = metadataValue(file, `${arch}.rope.scaling.type`);
    if (scaling !== undefined && !(typeof scaling === 'string' && ROPE_SCALING_TYPES.has(scaling))) {
      problems.push(`${arch}.rope.scaling.type is ${JSON.stringify(scaling)}; expected one of ${[...ROPE_SCALING_TYPES].join(', ')}`);
    }
    for (const key of ['attention.layer_norm_rms_epsilon', 'attention.layer_norm_epsilon']) {
      const eps = metadataNumber(file, `${arch}.${key}`);
      if (eps !== undefined && !(Number.isFinite(eps) && eps >= 0)) problems.push(`${arch}.${key} is ${eps}; it must be a finite number of at least 0`);
    }
    const groups = metadataNumber(file, `${arch}.expert_group_count`) ?? 0;
    const experts = metadataNumber(file, `${arch}.expert_count`) ?? 0;
    if (groups > 0 && experts === 0) problems.push(`${arch}.expert_group_count is ${groups} on a model without experts`);
  }
  const tokenizer = metadataValue(file, 'tokenizer.ggml.model');
  if (tokenizer !== undefined) {
    if (!(typeof tokenizer === 'string' && TOKENIZER_MODELS.has(tokenizer))) {
      problems.push(`tokenizer.ggml.model is ${JSON.stringify(tokenizer)}; expected one of ${[...TOKENIZER_MODELS].join(', ')}`);
    } else if (tokenizer === 'llama' && !isGgufArray(metadataValue(file, 'tokenizer.ggml.scores'))) {
      problems.push('tokenizer.ggml.model is "llama" but tokenizer.ggml.scores is missing');
    }
  }
  const tokens = metadataValue(file, 'tokenizer.ggml.tokens');
  if (isGgufArray(tokens) && tokens.length === 0) problems.push('tokenizer.ggml.tokens is empty');
  const template = metadataValue(file, 'tokenizer.chat_template');
  if (typeof template === 'string' && Buffer.byteLength(template) > MAX_CHAT_TEMPLATE_BYTES) {
    problems.push(`tokenizer.chat_template is ${Buffer.byteLength(template)} bytes; at most ${MAX_CHAT_TEMPLATE_BYTES} are accepted`);
  }
  return problems;
}
