/**
 * Prompt cache: keep the KV cells of the longest common prefix between what the sequence
 * already holds and the new prompt, erase the rest, and evaluate only the new suffix. A chat
 * that resends its history then costs only the new turn.
 */
import type { LlamaContextSequence, Token } from '#node-llama-cpp';

export interface PrefixReuse {
  /** Prompt tokens whose KV was kept. */
  cachedTokens: number;
  /** Tokens still to evaluate; never empty, because sampling needs the logits of the last one. */
  rest: Token[];
}

export async function reusePrefix(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<PrefixReuse> {
  let shared = seq.compareContextTokens(tokens as Token[]).firstDifferentIndex;
  // The last prompt token is always re-evaluated: its logits are not kept between requests.
  shared = Math.min(shared, tokens.length - 1);
  if (shared < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{ start: shared, end: seq.nextTokenIndex }]);
  return { cachedTokens: shared, rest: tokens.slice(shared) };
}
