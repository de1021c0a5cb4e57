/**
 * Finds stop strings in streamed text. Text that could still be the start of a stop string is
 * held back (only that tail), everything before it is released at once, so streaming is not
 * delayed by stop strings that cannot match.
 */

export interface StopMatch {
  /** The stop string found. */
  stop: string;
  /** Index of the stop string in the list given to the constructor. */
  index: number;
}

export interface StopResult {
  /** Text safe to emit now. */
  text: string;
  /** Set when a stop string completed; the text before it is in `text`, the stop itself is dropped. */
  match?: StopMatch;
  /** Text after the stop string, not emitted (it may matter to callers that switch modes). */
  rest?: string;
}

export class StopMatcher {
  private held = '';
  private readonly stops: string[];

  /** @param stops Stop strings, empty ones ignored. */
  constructor(stops: readonly string[]) {
    this.stops = [...stops];
  }

  get empty(): boolean {
    return this.stops.every((s) => s.length === 0);
  }

  push(chunk: string): StopResult {
    const text = this.held + chunk;
    let best: { at: number; index: number } | undefined;
    this.stops.forEach((stop, index) => {
      if (stop.length === 0) return;
      const at = text.indexOf(stop);
      if (at >= 0 && (best === undefined || at < best.at)) best = { at, index };
    });
    if (best) {
      this.held = '';
      const stop = this.stops[best.index]!;
      return { text: text.slice(0, best.at), match: { stop, index: best.index }, rest: text.slice(best.at + stop.length) };
    }
    const keep = this.partialTail(text);
    this.held = text.slice(text.length - keep);
    return { text: text.slice(0, text.length - keep) };
  }

  /** Releases the held tail at the end of generation. */
  flush(): string {
    const text = this.held;
    this.held = '';
    return text;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  private partialTail(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, text.length);
      for (let n = max; n > longest; n--) {
        if (stop.startsWith(text.slice(text.length - n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
