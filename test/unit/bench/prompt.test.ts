import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitCalibration, generatePrompt, GUESSED_CALIBRATION, wordsForTokens } from '../../../src/bench/prompt.js';

describe('bench prompts', () => {
  it('generates the requested number of words, reproducibly for a seed and index', () => {
    const a = generatePrompt(20, 3, 42);
    assert.equal(a.split(' ').length, 20);
    assert.equal(generatePrompt(20, 3, 42), a);
  });

  it('makes prompts of different requests differ from the first word on', () => {
    const first = new Set(Array.from({ length: 100 }, (_, i) => generatePrompt(10, i, 7).split(' ')[0]));
    assert.equal(first.size, 100);
    assert.notEqual(generatePrompt(10, 0, 1).split(' ')[0], generatePrompt(10, 0, 2).split(' ')[0]);
  });

  it('fits template overhead and tokens per word from two probes', () => {
    const c = fitCalibration({ words: 8, tokens: 30 }, { words: 64, tokens: 142 });
    assert.equal(c.tokensPerWord, 2);
    assert.equal(c.overheadTokens, 14);
    assert.equal(wordsForTokens(142, c), 64);
  });

  it('falls back to a guessed ratio when the probes give no usable slope', () => {
    assert.equal(fitCalibration({ words: 8, tokens: 30 }, { words: 64, tokens: 30 }), GUESSED_CALIBRATION);
    assert.equal(wordsForTokens(1, fitCalibration({ words: 8, tokens: 30 }, { words: 64, tokens: 142 })), 1);
  });
});
