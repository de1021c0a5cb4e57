/**
 * Maps the engine's SamplingOptions onto node-llama-cpp's sequence evaluation options.
 * Defaults follow llama-server so that a request without sampling fields behaves the same.
 */
import { TokenBias, type LlamaModel, type SequenceEvaluateOptions, type Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { SamplingOptions } from '../types.js';

export const DEFAULT_TEMPERATURE = 0.8;
export const DEFAULT_TOP_K = 40;
export const DEFAULT_TOP_P = 0.95;
export const DEFAULT_MIN_P = 0.05;
/** Recent tokens the repeat/presence/frequency penalties look at (llama-server's repeat_last_n). */
export const PENALTY_LAST_N = 64;
/** A bias at or below this bans the token, as OpenAI's logit_bias documents for -100. */
const BAN_BIAS = -100;

/**
 * Builds evaluation options. `recentTokens` is read at each step so penalties see the tokens
 * generated so far.
 */
export function evaluateOptionsFor(
  model: LlamaModel,
  vocabularySize: number,
  sampling: SamplingOptions,
  recentTokens: () => Token[],
): SequenceEvaluateOptions {
  const options: SequenceEvaluateOptions = {
    temperature: sampling.temperature ?? DEFAULT_TEMPERATURE,
    topK: sampling.topK ?? DEFAULT_TOP_K,
    topP: sampling.topP ?? DEFAULT_TOP_P,
    minP: sampling.minP ?? DEFAULT_MIN_P,
    seed: sampling.seed,
    // EOG tokens are yielded only so that ignoreEos can skip them; otherwise evaluation stops on them.
    yieldEogToken: sampling.ignoreEos === true,
  };
  const penalised =
    (sampling.repeatPenalty !== undefined && sampling.repeatPenalty !== 1) ||
    (sampling.presencePenalty ?? 0) !== 0 ||
    (sampling.frequencyPenalty ?? 0) !== 0;
  if (penalised) {
    options.repeatPenalty = {
      punishTokens: () => recentTokens().slice(-PENALTY_LAST_N),
      maxPunishTokens: PENALTY_LAST_N,
      penalty: sampling.repeatPenalty ?? 1,
      presencePenalty: sampling.presencePenalty ?? 0,
      frequencyPenalty: sampling.frequencyPenalty ?? 0,
    };
  }
  const bias = tokenBiasFor(model, vocabularySize, sampling.logitBias);
  if (bias) options.tokenBias = bias;
  return options;
}

/** Validates every id against the vocabulary: an out-of-range id must never reach native code. */
export function tokenBiasFor(model: LlamaModel, vocabularySize: number, logitBias: Record<number, number> | undefined): TokenBias | undefined {
  if (!logitBias) return undefined;
  const entries = Object.entries(logitBias);
  if (entries.length === 0) return undefined;
  const bias = new TokenBias(model.tokenizer);
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= vocabularySize) {
      throw new AppError('bad_request', `logit_bias names token ${key}, which is not in the vocabulary (0 to ${vocabularySize - 1})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new AppError('bad_request', `logit_bias for token ${key} must be a finite number, got ${String(value)}`);
    }
    bias.set(id as Token, value <= BAN_BIAS ? 'never' : { logit: value });
  }
  return bias;
}
