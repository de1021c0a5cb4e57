/**
 * Separates a reasoning model's thinking from its answer as the text streams, the way
 * llama-server's `--reasoning-format deepseek` and Ollama's thinking parser do: only a section
 * at the very start of the reply counts (after optional whitespace), it ends at the first close
 * marker, and everything after it is the answer. A marker may arrive split over several pieces
 * of text, so a tail that could still become one is held back until it is known. Whitespace
 * around the thinking is dropped, as both servers drop it; at the start of the answer only when
 * asked (Ollama drops it, llama-server keeps it).
 */

/** The markers of a reasoning section, e.g. `<think>` and `</think>`. */
export interface ThoughtMarkers {
  open: string;
  close: string;
}

export interface ThinkingPiece {
  kind: 'thinking' | 'text';
  text: string;
}

type State = 'start' | 'thinking' | 'answer-start' | 'answer';

export class ThinkingSplitter {
  private state: State;
  /** Text received but not yet released: a possible marker, or whitespace whose place is not known yet. */
  private held = '';
  /** True until the first thinking text has been released: leading whitespace there is dropped. */
  private atThinkingStart = true;

  /**
   * @param markers The section's open and close markers; surrounding whitespace is ignored.
   * @param openedInPrompt Whether the prompt already opened the section (the template wrote the
   * open marker where the reply starts), so the reply starts inside it. Defaults to false.
   * @param trimAnswerStart Drop the whitespace between the close marker and the answer, as
   * Ollama's parser does; llama-server keeps it. Defaults to false.
   */
  constructor(
    private readonly markers: ThoughtMarkers,
    openedInPrompt = false,
    private readonly trimAnswerStart = false,
  ) {
    this.markers = { open: markers.open.trim(), close: markers.close.trim() };
    this.state = openedInPrompt ? 'thinking' : 'start';
  }

  /** Whether the reply is past its thinking (or had none). */
  get answering(): boolean {
    return this.state === 'answer' || this.state === 'answer-start';
  }

  /** Adds generated text; returns the pieces now known, in order. */
  push(text: string): ThinkingPiece[] {
    this.held += text;
    const pieces: ThinkingPiece[] = [];
    for (;;) {
      const before = this.state;
      this.step(pieces);
      if (this.state === before) break;
    }
    return merge(pieces);
  }

  /** The end of the reply: releases what is held (an unclosed section stays thinking). */
  flush(): ThinkingPiece[] {
    const rest = this.held;
    this.held = '';
    if (this.state === 'thinking') return piece('thinking', rest.trimEnd());
    if (this.state === 'answer-start') return piece('text', rest.trimStart());
    return piece('text', rest);
  }

  /** Advances over `held` within the current state, changing state at most once. */
  private step(pieces: ThinkingPiece[]): void {
    const { open, close } = this.markers;
    switch (this.state) {
      case 'start': {
        const body = this.held.trimStart();
        if (body.startsWith(open)) {
          this.held = body.slice(open.length).trimStart();
          this.state = 'thinking';
        } else if (body.length === 0 || open.startsWith(body)) {
          return; // still whitespace, or the open marker's beginning
        } else {
          this.state = 'answer';
        }
        return;
      }
      case 'thinking': {
        const at = this.held.indexOf(close);
        if (at >= 0) {
          pieces.push(...piece('thinking', this.trimThinkingStart(this.held.slice(0, at)).trimEnd()));
          this.held = this.held.slice(at + close.length);
          this.state = this.trimAnswerStart ? 'answer-start' : 'answer';
          return;
        }
        // Keep trailing whitespace and whatever may begin the close marker; release the rest.
        const keep = heldTail(this.held, close);
        const out = this.trimThinkingStart(this.held.slice(0, this.held.length - keep));
        this.held = this.held.slice(this.held.length - keep);
        pieces.push(...piece('thinking', out));
        return;
      }
      case 'answer-start': {
        const body = this.held.trimStart();
        this.held = body;
        if (body.length > 0) this.state = 'answer';
        return;
      }
      case 'answer':
        pieces.push(...piece('text', this.held));
        this.held = '';
        return;
    }
  }

  private trimThinkingStart(text: string): string {
    if (!this.atThinkingStart) return text;
    const trimmed = text.trimStart();
    if (trimmed.length > 0) this.atThinkingStart = false;
    return trimmed;
  }
}

/** Length of the tail of `text` to hold back: trailing whitespace plus a partial `marker` after it. */
function heldTail(text: string, marker: string): number {
  let partial = 0;
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(marker.slice(0, n))) {
      partial = n;
      break;
    }
  }
  const before = text.slice(0, text.length - partial);
  return text.length - before.trimEnd().length;
}

function piece(kind: ThinkingPiece['kind'], text: string): ThinkingPiece[] {
  return text.length > 0 ? [{ kind, text }] : [];
}

/** Joins neighbouring pieces of the same kind. */
function merge(pieces: ThinkingPiece[]): ThinkingPiece[] {
  const out: ThinkingPiece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last?.kind === p.kind) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}
