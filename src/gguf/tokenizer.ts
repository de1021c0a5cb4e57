import { AppError } from '../errors.js';

/**
 * A small GPT-2 style byte-level BPE vocabulary for generated models: three ChatML control
 * tokens, the 256 byte symbols, a handful of merges, then unique dummy words up to the
 * requested vocabulary size. It is enough for llama.cpp to tokenize any text and for
 * node-llama-cpp to pick its ChatML chat wrapper.
 */

/** llama.cpp token types (llama_token_type). */
export const TOKEN_TYPE = { NORMAL: 1, CONTROL: 3, USER_DEFINED: 4 } as const;

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export const BOS_TOKEN_ID = 1;
export const EOS_TOKEN_ID = 2;
/** Id of the byte symbol for byte 0: byte b has id BYTE_TOKEN_BASE + b. */
export const BYTE_TOKEN_BASE = SPECIAL_TOKENS.length;

/** ChatML, as SmolLM2 and many others use it; node-llama-cpp maps it to its ChatML wrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * The markers of a reasoning section, as Qwen3 and DeepSeek-R1 write them. They are user-defined
 * tokens (not control ones): the tokenizer matches them whole and they detokenize as their text.
 */
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/**
 * A ChatML template with a reasoning section, in the manner of DeepSeek-R1 and Qwen3's thinking
 * releases: the reply opens inside `<think>` (the model writes its reasoning, then `</think>`, then
 * the answer). `enable_thinking=false` closes the section empty instead, as Qwen3's template does,
 * and an assistant turn in the history carries its `reasoning_content` in a closed section.
 */
export const THINKING_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}" +
  "{% if message['reasoning_content'] is defined and message['reasoning_content'] %}{{ '<think>\\n' + message['reasoning_content'] + '\\n</think>\\n\\n' }}{% endif %}" +
  "{{ message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}" +
  "{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% else %}{{ '<think>\\n' }}{% endif %}{% endif %}";

/** Merges in rank order; every part is a byte symbol or the result of an earlier merge. */
const MERGES: readonly (readonly [string, string])[] = [
  ['Ġ', 't'], ['Ġ', 'a'], ['h', 'e'], ['i', 'n'], ['r', 'e'], ['o', 'n'], ['Ġt', 'he'], ['e', 'r'],
  ['Ġ', 's'], ['a', 't'], ['Ġ', 'w'], ['Ġ', 'o'], ['e', 'n'], ['Ġ', 'c'], ['i', 't'], ['i', 's'],
  ['a', 'n'], ['o', 'r'], ['e', 's'], ['Ġ', 'b'], ['e', 'd'], ['Ġ', 'f'], ['in', 'g'], ['Ġ', 'p'],
  ['o', 'u'], ['Ġa', 'n'], ['a', 'l'], ['a', 'r'], ['Ġt', 'o'], ['Ġ', 'm'], ['Ġo', 'f'], ['Ġ', 'in'],
  ['Ġ', 'd'], ['Ġ', 'h'], ['Ġan', 'd'], ['i', 'c'], ['a', 's'], ['l', 'e'], ['Ġt', 'h'], ['i', 'on'],
];

/** The smallest vocabulary that holds the special tokens, the byte symbols and the merges. */
export const MIN_VOCAB_SIZE = BYTE_TOKEN_BASE + 256 + MERGES.length;

/**
 * GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to code points
 * from U+0100 on, so that every byte has a visible, whitespace-free symbol.
 */
export function byteToUnicodeTable(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + next++);
  return table;
}

export interface Vocabulary {
  tokens: string[];
  tokenTypes: number[];
  /** Merges as llama.cpp stores them: "left right". */
  merges: string[];
}

/** Dummy word number n: three letters first ("aaa".."zzz"), then four, and so on. */
function dummyWord(n: number): string {
  let length = 3;
  let count = 26 ** length;
  while (n >= count) {
    n -= count;
    length++;
    count = 26 ** length;
  }
  let word = '';
  for (let i = 0; i < length; i++) {
    word = String.fromCharCode(97 + (n % 26)) + word;
    n = Math.floor(n / 26);
  }
  return word;
}

/**
 * @param vocabSize Tokens in all.
 * @param extraTokens User-defined tokens that take the last ids, in order (the ids of everything
 * else stay as they are without them). Defaults to none.
 */
export function buildVocabulary(vocabSize: number, extraTokens: readonly string[] = []): Vocabulary {
  const least = MIN_VOCAB_SIZE + extraTokens.length;
  if (!Number.isInteger(vocabSize) || vocabSize < least) {
    throw new AppError('bad_request', `vocabulary size ${vocabSize} is too small: at least ${least} tokens are needed`);
  }
  const tokens: string[] = [...SPECIAL_TOKENS];
  const tokenTypes: number[] = SPECIAL_TOKENS.map(() => TOKEN_TYPE.CONTROL);
  for (const symbol of byteToUnicodeTable()) {
    tokens.push(symbol);
    tokenTypes.push(TOKEN_TYPE.NORMAL);
  }
  const merges: string[] = [];
  for (const [left, right] of MERGES) {
    merges.push(`${left} ${right}`);
    tokens.push(left + right);
    tokenTypes.push(TOKEN_TYPE.NORMAL);
  }
  // llama.cpp maps token text to ids, so a duplicate would silently shadow another token.
  const seen = new Set([...tokens, ...extraTokens]);
  const dummies = vocabSize - extraTokens.length;
  for (let n = 0; tokens.length < dummies; n++) {
    const token = `Ġ${dummyWord(n)}`;
    if (seen.has(token)) continue;
    seen.add(token);
    tokens.push(token);
    tokenTypes.push(TOKEN_TYPE.NORMAL);
  }
  for (const token of extraTokens) {
    tokens.push(token);
    tokenTypes.push(TOKEN_TYPE.USER_DEFINED);
  }
  return { tokens, tokenTypes, merges };
}
