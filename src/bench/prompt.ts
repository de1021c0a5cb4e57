/**
 * Benchmark prompts. Each request gets a different prompt that differs from its first word on,
 * so a server's prompt cache (llama-server reuses the longest common prefix of a slot's last
 * prompt) cannot skip prefill and hide its cost. The length is given in words; run.ts turns a
 * token target into words by asking the server how many tokens two probe prompts became.
 */

const WORDS = [
  'river', 'stone', 'lantern', 'orbit', 'meadow', 'copper', 'harbor', 'pencil', 'thunder', 'velvet', 'garden', 'signal',
  'marble', 'winter', 'candle', 'forest', 'engine', 'silver', 'window', 'planet', 'ribbon', 'castle', 'anchor', 'bridge',
  'falcon', 'glacier', 'island', 'jungle', 'kettle', 'ladder', 'mirror', 'needle', 'oyster', 'pillow', 'quarry', 'rocket',
  'saddle', 'tunnel', 'umbrella', 'valley', 'wagon', 'yellow', 'zipper', 'basket', 'cactus', 'dragon', 'ember', 'fossil',
  'guitar', 'hammer', 'igloo', 'jacket', 'kitten', 'lemon', 'magnet', 'nutmeg', 'olive', 'parrot', 'quill', 'raven',
  'salmon', 'tiger', 'violin', 'walnut',
];

/** A small seeded PRNG (mulberry32): prompts are reproducible for a given run seed and index. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A prompt of `words` words (at least 1) whose first word is unique to (runSeed, index).
 * The same arguments always give the same text.
 */
export function generatePrompt(words: number, index: number, runSeed: number): string {
  const next = mulberry32((runSeed * 0x9e3779b1) ^ (index + 1));
  // Random leading characters keep the common prefix of two prompts near zero (a shared
  // "r123q" would be reused from the cache); the index suffix makes the word unique for sure.
  const lead = Array.from({ length: 6 }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(next() * 26)]).join('');
  const out = [`${lead}${index.toString(36)}`];
  for (let i = 1; i < Math.max(1, Math.round(words)); i++) out.push(WORDS[Math.floor(next() * WORDS.length)]!);
  return out.join(' ');
}

/** How prompt length in words maps to prompt tokens on one server: tokens ≈ overhead + perWord × words. */
export interface PromptCalibration {
  overheadTokens: number;
  tokensPerWord: number;
  /** False when the server reported no token counts and the mapping is a guess. */
  measured: boolean;
}

/** Used when the server reports no usage: English-like words average about 1.3 BPE tokens. */
export const GUESSED_CALIBRATION: PromptCalibration = { overheadTokens: 0, tokensPerWord: 1.3, measured: false };

/** Fits the line through two (words, tokens) probes. */
export function fitCalibration(a: { words: number; tokens: number }, b: { words: number; tokens: number }): PromptCalibration {
  if (a.words === b.words || b.tokens <= a.tokens) return GUESSED_CALIBRATION;
  const tokensPerWord = (b.tokens - a.tokens) / (b.words - a.words);
  return { overheadTokens: Math.max(0, a.tokens - tokensPerWord * a.words), tokensPerWord, measured: true };
}

/** The word count whose prompt should come closest to `tokens` prompt tokens. */
export function wordsForTokens(tokens: number, calibration: PromptCalibration): number {
  return Math.max(1, Math.round((tokens - calibration.overheadTokens) / calibration.tokensPerWord));
}
