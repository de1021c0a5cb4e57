/**
 * A chat template's thinking section as node-llama-cpp's wrapper describes it: its open and
 * close text (Qwen3's `<think>\n` ... `\n</think>\n\n`), and whether the template's generation
 * prompt already opens it (DeepSeek-R1, Qwen3's thinking releases). A Jinja template gets these
 * from node-llama-cpp rendering it with and without `reasoning_content`; specialized wrappers
 * (Qwen, DeepSeek, ...) carry them as settings. A model without one cannot think.
 */
import { LlamaText, SpecialToken, type ChatWrapper } from '#node-llama-cpp';
import type { ThoughtMarkers } from './thinking-splitter.js';

export interface ThoughtSection {
  /** The markers as the model writes them, for finding them in its output. */
  markers: ThoughtMarkers;
  /** What opens the section where the reply starts ('' when the template opens it by itself). */
  openText: LlamaText;
  /** An empty, closed section: written where the reply starts to switch thinking off. */
  emptyText: LlamaText;
  /** Whether the template's generation prompt opens the section, so the reply starts inside it. */
  openInPrompt: boolean;
}

export function thoughtSectionOf(wrapper: ChatWrapper): ThoughtSection | undefined {
  const thought = wrapper.settings.segments?.thought;
  if (!thought || thought.suffix === undefined) return undefined;
  const close = LlamaText(thought.suffix);
  const openedByTemplate = typeof thought.prefix === 'object' && !LlamaText.isLlamaText(thought.prefix);
  const open = openedByTemplate ? LlamaText() : LlamaText(thought.prefix as string | LlamaText);
  const markers = { open: textOf(open), close: textOf(close) };
  if (markers.close === undefined || markers.open === undefined || markers.close.trim() === '') return undefined;
  if (!openedByTemplate && markers.open.trim() === '') return undefined;
  return {
    markers: { open: markers.open, close: markers.close },
    openText: openedByTemplate ? LlamaText() : open,
    emptyText: openedByTemplate ? close : LlamaText([open, close]),
    openInPrompt: openedByTemplate || thought.openOnResponseStart === true,
  };
}

/** The text a model writes for `value`, or undefined when it holds a builtin special token (BOS, EOS...). */
function textOf(value: LlamaText): string | undefined {
  if (value.values.some((v) => v instanceof SpecialToken)) return undefined;
  return value.values.map((v) => (typeof v === 'string' ? v : v.value)).join('');
}
