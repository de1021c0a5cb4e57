/**
 * Turns sampled tokens into text as they arrive. A token may carry only part of a UTF-8
 * character (byte-level BPE), so text is released only once it decodes without a trailing
 * replacement character; the held tokens are decoded together with the next one.
 */
import type { LlamaModel, Token } from '#node-llama-cpp';

/** Tokens of already-released text passed as context, so leading spaces decode as they would in the full text. */
const CONTEXT_TOKENS = 4;
/** Past this many held tokens the text is released anyway: it is not a split character. */
const MAX_HELD_TOKENS = 8;
const REPLACEMENT = '\uFFFD';

export class TokenTextDecoder {
  private readonly released: Token[] = [];
  private held: Token[] = [];

  /**
   * @param model The model whose vocabulary produced the tokens. Only sampled ids reach it:
   * detokenizing an id outside the vocabulary aborts the process.
   */
  constructor(private readonly model: LlamaModel) {}

  /** Adds one token and returns the text that is now complete (possibly ''). */
  push(token: Token): string {
    this.held.push(token);
    const text = this.decodeHeld();
    if (text.endsWith(REPLACEMENT) && this.held.length < MAX_HELD_TOKENS) return '';
    return this.release(text);
  }

  /** Releases whatever is held, complete or not (end of generation). */
  flush(): string {
    if (this.held.length === 0) return '';
    return this.release(this.decodeHeld());
  }

  private decodeHeld(): string {
    return this.model.detokenize(this.held, false, this.released.slice(-CONTEXT_TOKENS));
  }

  private release(text: string): string {
    this.released.push(...this.held);
    if (this.released.length > CONTEXT_TOKENS) this.released.splice(0, this.released.length - CONTEXT_TOKENS);
    this.held = [];
    return text;
  }
}
