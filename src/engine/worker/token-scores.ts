/**
 * What node-llama-cpp tells about one sampled token, reduced to what a log-probability report
 * needs: the token's probability and the few most likely tokens at its step.
 *
 * node-llama-cpp computes these in its sampler (evaluateWithMetadata's `confidence` and
 * `probabilities`): a softmax over the candidates left after the sampler chain ran. With
 * temperature 0 the chain is only the greedy pick (after any token bias and penalties), so the
 * candidates are the whole vocabulary with its logits as they are: the model's full distribution,
 * as llama-server reports it. With temperature above 0, top-k, top-p and min-p have cut the
 * candidates and the temperature has scaled them: the distribution the token was drawn from.
 * Token bias, penalties and a grammar (applied first when either is asked) shape both. The raw
 * logits themselves are out of reach: the binding offers no other view of them.
 *
 * `probabilities` builds a JS Map of every candidate (the whole vocabulary when greedy: about 30 ms
 * a token for a 49k vocabulary, more than the decode of a small model, and on the Worker's thread,
 * so the sequences batched with it wait too), so it is asked for only when alternatives are
 * wanted; `confidence` alone costs one native sort.
 */
import type { SequenceEvaluateMetadataOptions, Token } from '#node-llama-cpp';

/** The tokens most likely at one step, most likely first. */
export interface TokenScore {
  /** Probability of the sampled token. */
  probability: number;
  top: Array<{ token: Token; probability: number }>;
}

/** What to ask node-llama-cpp for when `top` alternatives are wanted per token. */
export function scoreMetadata(top: number): SequenceEvaluateMetadataOptions {
  return top > 0 ? { probabilities: true } : { confidence: true };
}

/** One evaluateWithMetadata output, read into a TokenScore with the `top` most likely tokens. */
export function scoreOf(token: Token, output: { probabilities?: ReadonlyMap<Token, number>; confidence?: number }, top: number): TokenScore {
  const probabilities = output.probabilities;
  const probability = output.confidence ?? probabilities?.get(token) ?? 0;
  return { probability, top: probabilities ? mostLikely(probabilities, top) : [] };
}

/**
 * The `n` largest entries, largest first, in one pass: node-llama-cpp sorts the candidates
 * today, but the order of a Map it builds is not part of its contract.
 */
export function mostLikely(probabilities: ReadonlyMap<Token, number>, n: number): Array<{ token: Token; probability: number }> {
  const best: Array<{ token: Token; probability: number }> = [];
  if (n <= 0) return best;
  for (const [token, probability] of probabilities) {
    if (best.length === n && probability <= best[n - 1]!.probability) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.probability < probability) at--;
    best.splice(at, 0, { token, probability });
    if (best.length > n) best.pop();
  }
  return best;
}
