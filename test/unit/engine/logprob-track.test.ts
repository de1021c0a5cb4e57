import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Token } from '#node-llama-cpp';
import { LogprobTrack, logprobOf, MIN_LOGPROB } from '../../../src/engine/worker/logprob-track.js';
import { StopMatcher } from '../../../src/engine/worker/stop-matcher.js';

const names: Record<number, string> = { 1: ' one', 2: ' two', 3: ' three' };
const textOf = (t: Token) => names[t] ?? `<${t}>`;
const score = (probability: number, top: Array<[number, number]> = []) => ({ probability, top: top.map(([token, p]) => ({ token: token as Token, probability: p })) });

describe('LogprobTrack', () => {
  test('a token decoded on its own becomes one entry with its text, bytes, log-probability and alternatives', () => {
    const track = new LogprobTrack(textOf);
    track.sampled(1 as Token, score(0.5, [[1, 0.5], [2, 0.25]]));
    track.decodedAs(' one');
    assert.deepEqual(track.take(4), [
      {
        token: ' one',
        logprob: Math.log(0.5),
        bytes: [32, 111, 110, 101],
        top: [
          { token: ' one', logprob: Math.log(0.5), bytes: [32, 111, 110, 101] },
          { token: ' two', logprob: Math.log(0.25), bytes: [32, 116, 119, 111] },
        ],
      },
    ]);
  });

  test('tokens that share one character give its text to the last of them and nothing to the others', () => {
    const track = new LogprobTrack(textOf);
    track.sampled(7 as Token, score(0.1));
    track.sampled(8 as Token, score(0.2));
    track.decodedAs('é');
    const entries = track.take(1);
    assert.deepEqual(entries.map((e) => e.token), ['', 'é']);
    assert.deepEqual(entries.map((e) => e.bytes), [[], [0xc3, 0xa9]]);
    assert.equal(entries.map((e) => e.token).join(''), 'é');
  });

  test('an entry leaves only once all of its text has left, so text held by a stop matcher holds its entry', () => {
    const track = new LogprobTrack(textOf);
    const matcher = new StopMatcher([' three!']);
    const out: string[] = [];
    for (const t of [1, 3] as Token[]) {
      track.sampled(t, score(0.5));
      track.decodedAs(textOf(t));
      const released = matcher.push(textOf(t)).text;
      out.push(track.take(released.length).map((e) => e.token).join('|'));
    }
    // ' three' starts like the stop string ' three!': its text and its entry wait.
    assert.deepEqual(out, [' one', '']);
    const tail = matcher.flush();
    assert.deepEqual(track.take(tail.length).map((e) => e.token), [' three']);
  });

  test('the entries of a text cut by a stop string end before the stop', () => {
    const track = new LogprobTrack(textOf);
    const matcher = new StopMatcher([' two']);
    let text = '';
    const entries = [];
    for (const t of [1, 2, 3] as Token[]) {
      track.sampled(t, score(0.5));
      track.decodedAs(textOf(t));
      const result = matcher.push(textOf(t));
      text += result.text;
      entries.push(...track.take(result.text.length, result.match !== undefined));
      if (result.match) break;
    }
    assert.equal(text, ' one');
    assert.equal(entries.map((e) => e.token).join(''), text);
  });

  test('at a stop string the token that reaches into it is reported, and the tokens after it are not', () => {
    const track = new LogprobTrack(textOf);
    const matcher = new StopMatcher(['ne t']);
    let text = '';
    const entries = [];
    for (const t of [1, 2, 3] as Token[]) {
      track.sampled(t, score(0.5));
      track.decodedAs(textOf(t));
      const result = matcher.push(textOf(t));
      text += result.text;
      entries.push(...track.take(result.text.length, result.match !== undefined));
      if (result.match) break;
    }
    // ' one' gave the answer its ' o'; ' two' lies inside the stop string.
    assert.equal(text, ' o');
    assert.deepEqual(entries.map((e) => e.token), [' one']);
  });

  test('a probability of 0 (or no number) is reported as the floor, not as minus infinity, and none above 0 is reported', () => {
    assert.equal(logprobOf(0), MIN_LOGPROB);
    assert.equal(logprobOf(1e-300 * 1e-300), MIN_LOGPROB);
    assert.equal(logprobOf(1), 0);
    assert.equal(logprobOf(1.0000001), 0);
    assert.equal(logprobOf(Number.NaN), MIN_LOGPROB);
  });
});
