import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThinkingSplitter, type ThinkingPiece } from '../../../src/engine/worker/thinking-splitter.js';

const MARKERS = { open: '<think>\n', close: '\n</think>\n\n' };

/** Feeds `chunks` one by one and returns everything released, neighbours of one kind joined. */
function run(chunks: string[], openedInPrompt = false, trimAnswerStart = true): ThinkingPiece[] {
  const splitter = new ThinkingSplitter(MARKERS, openedInPrompt, trimAnswerStart);
  const pieces = [...chunks.flatMap((c) => splitter.push(c)), ...splitter.flush()];
  const out: ThinkingPiece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last?.kind === p.kind) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}

/** Every way of cutting `text` into two or three pieces, to test markers split across tokens. */
function cuts(text: string): string[][] {
  const out: string[][] = [];
  for (let i = 1; i < text.length; i++) {
    out.push([text.slice(0, i), text.slice(i)]);
    for (let j = i + 1; j < text.length; j++) out.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  return out;
}

describe('ThinkingSplitter', () => {
  it('separates a leading thinking section from the answer and trims the whitespace around both', () => {
    assert.deepEqual(run(['<think>\nLet me see.\n</think>\n\nThe answer.']), [
      { kind: 'thinking', text: 'Let me see.' },
      { kind: 'text', text: 'The answer.' },
    ]);
  });

  it("keeps the whitespace at the answer's start unless asked to drop it, as llama-server does", () => {
    assert.deepEqual(run(['<think>\nHm.\n</think>', '\n\n', 'Yes.'], false, false), [
      { kind: 'thinking', text: 'Hm.' },
      { kind: 'text', text: '\n\nYes.' },
    ]);
  });

  it('gives the same split however the text is cut into tokens, markers included', () => {
    const text = '  <think>\nab </think> cd</think>e';
    const expected = [
      { kind: 'thinking', text: 'ab' },
      { kind: 'text', text: 'cd</think>e' },
    ];
    for (const chunks of cuts(text)) assert.deepEqual(run(chunks), expected, JSON.stringify(chunks));
  });

  it('starts inside the section when the prompt opened it, and ends it at the first close marker only', () => {
    assert.deepEqual(run(['reasoning', '</thi', 'nk>', 'answer</think>more'], true), [
      { kind: 'thinking', text: 'reasoning' },
      { kind: 'text', text: 'answer</think>more' },
    ]);
  });

  it('treats a reply that does not open with the marker as all answer', () => {
    assert.deepEqual(run(['Hello ', '<think>x</think>']), [{ kind: 'text', text: 'Hello <think>x</think>' }]);
  });

  it('releases thinking text as it arrives, holding back only what may begin the close marker', () => {
    const splitter = new ThinkingSplitter(MARKERS, true, true);
    assert.deepEqual(splitter.push('one two'), [{ kind: 'thinking', text: 'one two' }]);
    assert.deepEqual(splitter.push(' </'), []);
    assert.deepEqual(splitter.push('b'), [{ kind: 'thinking', text: ' </b' }]);
    assert.equal(splitter.answering, false);
    assert.deepEqual(splitter.push('</think>'), []);
    assert.equal(splitter.answering, true);
    assert.deepEqual(splitter.push('\n\nHi'), [{ kind: 'text', text: 'Hi' }]);
  });

  it('keeps an unclosed section as thinking when the reply ends inside it', () => {
    assert.deepEqual(run(['<think>', 'still going  '], false), [{ kind: 'thinking', text: 'still going' }]);
  });

  it('returns a partial open marker as answer when the reply ends before it completes', () => {
    assert.deepEqual(run(['<thi']), [{ kind: 'text', text: '<thi' }]);
  });
});
