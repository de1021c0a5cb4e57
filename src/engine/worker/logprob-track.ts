/**
 * Turns the scores of sampled tokens into TokenLogprob entries and hands each entry out with the
 * text event that completes its token's text. Text passes two holds on its way out: the token
 * decoder keeps tokens that end inside a UTF-8 character, and the stop matcher keeps text that may
 * begin a stop string. An entry leaves only once all of its text has left, so the entries of a
 * response concatenate to its text. At a stop string the token that reaches into it leaves too
 * when part of its text is in the answer (it was generated and shaped that text); tokens wholly
 * inside the stop string never leave.
 */
import type { Token } from '#node-llama-cpp';
import type { TokenAlternative, TokenLogprob } from '../types.js';
import type { TokenScore } from './token-scores.js';

/** OpenAI's stand-in for the logarithm of a probability of 0. */
export const MIN_LOGPROB = -9999;

/** The natural log, floored at MIN_LOGPROB and capped at 0 (float rounding can push a sure token's probability past 1). */
export function logprobOf(probability: number): number {
  return probability > 0 ? Math.min(0, Math.max(Math.log(probability), MIN_LOGPROB)) : MIN_LOGPROB;
}

const encoder = new TextEncoder();

function alternative(token: string, probability: number): TokenAlternative {
  return { token, logprob: logprobOf(probability), bytes: [...encoder.encode(token)] };
}

export class LogprobTrack {
  /** Sampled tokens whose text the decoder still holds. */
  private undecoded: Array<{ token: Token; score: TokenScore }> = [];
  /** Entries whose text the stop matcher may still hold. */
  private decoded: TokenLogprob[] = [];
  /** Characters of decoded entries already handed out, and of text released. */
  private consumed = 0;
  private released = 0;

  /**
   * @param textOf The text of one token on its own, for the alternatives (the sampled token's text
   * comes from the decoder, in context). Only ids the sampler reported reach it.
   */
  constructor(private readonly textOf: (token: Token) => string) {}

  /** A sampled token and its score, before its text is known. */
  sampled(token: Token, score: TokenScore): void {
    this.undecoded.push({ token, score });
  }

  /**
   * The decoder released `text` for every token it held. A character split over several tokens
   * has no text of its own per token: the text goes to the last token, the others get ''.
   */
  decodedAs(text: string): void {
    const group = this.undecoded;
    this.undecoded = [];
    group.forEach(({ token, score }, i) => {
      const own = i === group.length - 1 ? text : '';
      const top = score.top.map((t) => alternative(t.token === token ? own : this.textOf(t.token), t.probability));
      this.decoded.push({ ...alternative(own, score.probability), top });
    });
  }

  /**
   * `length` more characters of text go out: the entries they complete go with them. `last`: a
   * stop string ends the text here, so an entry whose text starts before the end goes too.
   */
  take(length: number, last = false): TokenLogprob[] {
    this.released += length;
    let count = 0;
    let consumed = this.consumed;
    for (const entry of this.decoded) {
      const end = consumed + entry.token.length;
      if (end > this.released && !(last && consumed < this.released)) break;
      consumed = end;
      count++;
    }
    this.consumed = consumed;
    return this.decoded.splice(0, count);
  }
}
