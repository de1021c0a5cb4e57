import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agreementLine, compareRows, oursRows, peerRows } from '../../../src/bench/compare/logprob-agreement.js';

describe('logprob agreement', () => {
  test('both wordings read into the same rows: llama-server\'s content entries and our legacy lists', () => {
    const peer = peerRows({ choices: [{ logprobs: { content: [{ id: 4, token: ' a', logprob: -1, top_logprobs: [{ id: 4, token: ' a', logprob: -1 }, { id: 5, token: ' b', logprob: -2 }] }] } }] });
    const ours = oursRows({ choices: [{ logprobs: { tokens: [' a'], token_logprobs: [-1], top_logprobs: [{ ' a': -1, ' b': -2 }], text_offset: [0] } }] });
    assert.deepEqual(peer, [{ token: ' a', logprob: -1, top: { ' a': -1, ' b': -2 } }]);
    assert.deepEqual(ours, peer);
  });

  test('tokens are compared up to the first that differs, alternatives only where both sides list them', () => {
    const row = (token: string, logprob: number, top: Record<string, number> = {}) => ({ token, logprob, top });
    const ours = [[row('x', -1, { x: -1, y: -2.5 }), row('y', -2), row('z', -9)]];
    const peer = [[row('x', -1.25, { x: -1.25, q: -3 }), row('y', -2.125), row('w', -1)]];
    assert.deepEqual(compareRows(ours, peer), { tokens: 3, matched: 2, alternatives: 1, maxDifference: 0.25 });
  });

  test('the report line says how many tokens matched and the largest difference, or why nothing was compared', () => {
    assert.match(agreementLine({ tokens: 10, matched: 9, alternatives: 45, maxDifference: 1.5e-5 }), /9 of 10 tokens .* 1\.5e-5 .* 45 shared/);
    assert.match(agreementLine({ tokens: 0, matched: 0, alternatives: 0, maxDifference: 0, error: 'refused' }), /not compared: refused/);
  });
});
