import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { llamaServerTuning, modelRunnerTuning } from '../../../src/bench/compare/servers.js';
import { loadConfig } from '../../../src/config.js';

const matched = { threads: 1, parallel: 4, contextPerSequence: 2048 };

/** The value after `flag` in llama-server's arguments. */
function valueOf(args: string[], flag: string): number {
  const at = args.indexOf(flag);
  assert.ok(at >= 0, `${flag} is passed`);
  return Number(args[at + 1]);
}

describe('benchmark tuning', () => {
  test('at matched settings both servers get the same threads, sequences and per-sequence context', () => {
    const peer = llamaServerTuning(matched);
    const ours = loadConfig([...modelRunnerTuning(matched)], {});
    assert.equal(valueOf(peer, '-t'), 1);
    assert.equal(valueOf(peer, '-tb'), 1);
    assert.equal(valueOf(peer, '-np'), 4);
    // llama-server splits its total -c evenly across its slots.
    assert.equal(valueOf(peer, '-c') / valueOf(peer, '-np'), 2048);
    assert.equal(ours.threads, 1);
    assert.equal(ours.parallel, 4);
    assert.equal(ours.contextSize, 2048);
  });

  test('at matched settings ours keeps one KV cache per sequence, as llama-server does when given its slot count', () => {
    assert.equal(llamaServerTuning(matched).includes('-kvu'), false);
    assert.equal(loadConfig([...modelRunnerTuning(matched)], {}).kvUnified, false);
  });

  test('at defaults neither server gets a tuning flag', () => {
    assert.deepEqual(llamaServerTuning({ ...matched, atDefaults: true }), []);
    assert.deepEqual(modelRunnerTuning({ ...matched, atDefaults: true }), []);
    assert.equal(loadConfig([], {}).kvUnified, true);
  });
});
