/**
 * llama-server's non-standard `timings` object, which it adds to chat.completion and
 * text_completion bodies and to the last chunk of their streams: the engine's own account of a
 * request, without HTTP or queueing. Clients written for llama-server (and benchmarks) read their
 * prompt and generation speeds from it; OpenAI's SDKs keep the field as it is.
 *
 * Same meanings as llama-server's: `cache_n` prompt tokens came from the cache and `prompt_n`
 * were evaluated, in `prompt_ms` (from the start of the prompt's evaluation to the first sampled
 * token); `predicted_n` tokens were generated, the first of which comes with the prompt, so the
 * per-token rates count the `predicted_n - 1` decode steps in `predicted_ms` (first token to last).
 */
import type { Timings, Usage } from '../engine/types.js';

export interface ServerTimings {
  cache_n: number;
  prompt_n: number;
  prompt_ms: number;
  prompt_per_token_ms: number;
  prompt_per_second: number;
  predicted_n: number;
  predicted_ms: number;
  predicted_per_token_ms: number;
  predicted_per_second: number;
}

/** One generation's share of a request: what it cost and how long it took. */
export interface TimedGeneration {
  usage: Usage;
  timings: Timings;
}

/** `n / ms` per second, 0 where no time passed (as llama-server reports an unknown rate). */
function perSecond(n: number, ms: number): number {
  return ms > 0 ? (n * 1000) / ms : 0;
}

/**
 * The timings of a request's generations (several with `n` > 1): the prompt is evaluated once,
 * by the first; the generated tokens and their time add up over all of them.
 */
export function toServerTimings(generations: readonly TimedGeneration[]): ServerTimings {
  const first = generations[0];
  if (first === undefined) throw new Error('timings need at least one generation');
  const cached = first.usage.cachedTokens ?? 0;
  const promptN = Math.max(0, first.usage.promptTokens - cached);
  const promptMs = first.timings.promptMs;
  const predictedN = generations.reduce((sum, g) => sum + g.usage.completionTokens, 0);
  const predictedMs = generations.reduce((sum, g) => sum + g.timings.generationMs, 0);
  const steps = generations.reduce((sum, g) => sum + Math.max(0, g.usage.completionTokens - 1), 0);
  return {
    cache_n: cached,
    prompt_n: promptN,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptN > 0 ? promptMs / promptN : 0,
    prompt_per_second: perSecond(promptN, promptMs),
    predicted_n: predictedN,
    predicted_ms: predictedMs,
    predicted_per_token_ms: steps > 0 ? predictedMs / steps : 0,
    predicted_per_second: perSecond(steps, predictedMs),
  };
}
