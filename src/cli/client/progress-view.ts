/**
 * Renders pull/push progress. On a terminal: one bar per layer, redrawn in place (layers move
 * in parallel, so a single line would flicker between them). Elsewhere (logs, CI, pipes): plain
 * lines, one when a layer starts, at each further 10% and when it completes, so a log stays short.
 */
import type { Writable } from 'node:stream';
import { formatDecimalSize } from '../../util/units.js';
import { shortId } from './display.js';
import type { ProgressMessage } from './progress-lines.js';

export interface ProgressViewOptions {
  /** Where progress goes. */
  out: Writable;
  /** Draw redrawn bars (true) or append plain lines (false). */
  tty: boolean;
  /** Width of the bar between the brackets. Defaults to 30. */
  barWidth?: number;
}

interface LayerState {
  id: string;
  size: number;
  current: number;
  /** The last 10% step printed in plain mode; -1 before the first line. */
  printedStep: number;
}

const CLEAR_LINE = '\x1b[2K';

function verbs(mode: string | undefined): { active: string; done: string } {
  return mode === 'push' ? { active: 'Uploading', done: 'Pushed' } : { active: 'Downloading', done: 'Downloaded' };
}

/** The bar for one layer: "[=========>          ]". */
export function progressBar(current: number, size: number, width: number): string {
  const ratio = size > 0 ? Math.min(1, Math.max(0, current / size)) : 1;
  const filled = Math.round(ratio * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

/** One plain line for a layer, e.g. "Downloading 2af3b81862c6: 12.00MB / 256.35MB (4%)". */
export function plainProgressLine(layer: { id: string; size: number; current: number }, mode?: string): string {
  const { active, done } = verbs(mode);
  const id = shortId(layer.id);
  if (layer.size > 0 && layer.current >= layer.size) return `${done} ${id}: ${formatDecimalSize(layer.size)}`;
  const percent = layer.size > 0 ? Math.floor((layer.current / layer.size) * 100) : 0;
  return `${active} ${id}: ${formatDecimalSize(layer.current)} / ${formatDecimalSize(layer.size)} (${percent}%)`;
}

export class ProgressView {
  private readonly layers = new Map<string, LayerState>();
  private drawn = 0;
  private mode: string | undefined;
  private readonly barWidth: number;

  constructor(private readonly options: ProgressViewOptions) {
    this.barWidth = options.barWidth ?? 30;
  }

  update(message: ProgressMessage): void {
    this.mode = message.mode ?? this.mode;
    const layer = message.layer;
    if (!layer || typeof layer.id !== 'string') {
      // Messages without a layer (warnings, status notes) are shown as they are.
      if (message.message) this.note(message.type === 'warning' ? `Warning: ${message.message}` : message.message);
      return;
    }
    let state = this.layers.get(layer.id);
    if (!state) {
      state = { id: layer.id, size: layer.size, current: 0, printedStep: -1 };
      this.layers.set(layer.id, state);
    }
    state.size = layer.size;
    state.current = layer.current;
    if (this.options.tty) this.redraw();
    else this.printPlain(state);
  }

  /** Ends the view; on a terminal the bars stay on screen above what follows. */
  finish(): void {
    this.drawn = 0;
  }

  private printPlain(state: LayerState): void {
    const complete = state.size > 0 && state.current >= state.size;
    const step = complete ? 10 : state.size > 0 ? Math.floor((state.current / state.size) * 10) : 0;
    if (step <= state.printedStep) return;
    state.printedStep = step;
    this.options.out.write(`${plainProgressLine(state, this.mode)}\n`);
  }

  private redraw(): void {
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    const { active, done } = verbs(this.mode);
    for (const state of this.layers.values()) {
      const complete = state.size > 0 && state.current >= state.size;
      const id = shortId(state.id);
      const line = complete
        ? `${id}: ${done} ${formatDecimalSize(state.size)}`
        : `${id}: ${active} ${progressBar(state.current, state.size, this.barWidth)} ${formatDecimalSize(state.current)}/${formatDecimalSize(state.size)}`;
      text += `\r${CLEAR_LINE}${line}\n`;
    }
    this.drawn = this.layers.size;
    this.options.out.write(text);
  }

  private note(text: string): void {
    // A note printed between redraws would be overwritten; it goes above the bars for good.
    if (this.options.tty && this.drawn > 0) {
      this.options.out.write(`\x1b[${this.drawn}A\r${CLEAR_LINE}${text}\n`);
      this.drawn = 0;
      this.redraw();
      return;
    }
    this.options.out.write(`${text}\n`);
  }
}

