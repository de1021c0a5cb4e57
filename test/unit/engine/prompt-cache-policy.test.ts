import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bestSavedPrefix, filesToEvict, isCoveredBy, MIN_PREFIX_TOKENS, sequencesToSave } from '../../../src/engine/worker/prefix-cache-policy.js';
import { commonPrefixLength, prefixStateKey } from '../../../src/engine/worker/prefix-state-key.js';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const SYSTEM = range(1000, 200);

describe('the key of a saved prompt prefix', () => {
  const tokens = range(1, 100);
  const key = prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', tokens);

  test('the same model, build and tokens give the same key, of 64 hex digits', () => {
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', [...tokens]), key);
    assert.equal(prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', Uint32Array.from(tokens)), key, 'a typed array keys like a plain one');
  });

  test('another model digest, another engine build or any other token gives another key', () => {
    assert.notEqual(prefixStateKey('sha256:ab', 'llama.cpp@b1 prebuilt', tokens), key);
    assert.notEqual(prefixStateKey('sha256:aa', 'llama.cpp@b1 localBuild', tokens), key);
    assert.notEqual(prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', [...tokens.slice(0, 99), 7]), key);
    assert.notEqual(prefixStateKey('sha256:aa', 'llama.cpp@b1 prebuilt', tokens.slice(0, 99)), key, 'a shorter prefix is another key');
  });

  test('text cannot move from one field into the next to forge a key', () => {
    assert.notEqual(prefixStateKey('sha256:a', 'ab', tokens), prefixStateKey('sha256:aa', 'b', tokens));
  });

  test('the common prefix length counts leading equal tokens only', () => {
    assert.equal(commonPrefixLength([1, 2, 3], [1, 2, 4, 5]), 2);
    assert.equal(commonPrefixLength([1, 2], [1, 2, 3]), 2);
    assert.equal(commonPrefixLength([], [1]), 0);
    assert.equal(commonPrefixLength([9, 2], [1, 2]), 0);
  });
});

describe('which saved prefix serves a prompt', () => {
  const shortOne = { name: 'short', tokens: SYSTEM.slice(0, 100) };
  const longOne = { name: 'long', tokens: [...SYSTEM, 1, 2, 3] };
  const other = { name: 'other', tokens: range(5000, 300) };
  const prompt = [...SYSTEM, 1, 2, 9, 9];

  test('the saved prefix sharing the most tokens with the prompt wins', () => {
    assert.deepEqual(bestSavedPrefix([shortOne, other, longOne], prompt, 0), { prefix: longOne, shared: SYSTEM.length + 2 });
  });

  test('the last prompt token never counts: it is evaluated again for its logits', () => {
    const whole = { tokens: prompt };
    assert.equal(bestSavedPrefix([whole], prompt, 0)?.shared, prompt.length - 1);
  });

  test('nothing is restored when the prefix is too short to pay for the file read', () => {
    const tiny = { tokens: SYSTEM.slice(0, MIN_PREFIX_TOKENS - 1) };
    assert.equal(bestSavedPrefix([tiny], prompt, 0), undefined);
    assert.equal(bestSavedPrefix([{ tokens: SYSTEM.slice(0, MIN_PREFIX_TOKENS) }], prompt, 0)?.shared, MIN_PREFIX_TOKENS);
  });

  test('nothing is restored when the sequence already holds nearly as much of the prompt', () => {
    assert.equal(bestSavedPrefix([longOne], prompt, SYSTEM.length + 2 - MIN_PREFIX_TOKENS + 1), undefined);
    assert.ok(bestSavedPrefix([longOne], prompt, SYSTEM.length + 2 - MIN_PREFIX_TOKENS));
  });

  test('no saved prefix, or none sharing a token, restores nothing', () => {
    assert.equal(bestSavedPrefix([], prompt, 0), undefined);
    assert.equal(bestSavedPrefix([other], prompt, 0), undefined);
  });
});

describe('which sequences are saved when a model unloads', () => {
  test('the longest come first and those too short to be worth a file are skipped', () => {
    const chosen = sequencesToSave([
      { id: 0, tokens: range(1, 100) },
      { id: 1, tokens: range(500, MIN_PREFIX_TOKENS - 1) },
      { id: 2, tokens: range(900, 300) },
    ]);
    assert.deepEqual(chosen.map((s) => s.id), [2, 0]);
  });

  test('a sequence whose tokens another one holds too is not saved twice', () => {
    const chosen = sequencesToSave([
      { id: 0, tokens: SYSTEM },
      { id: 1, tokens: [...SYSTEM, ...range(1, 100)] },
      { id: 2, tokens: [...SYSTEM] },
      { id: 3, tokens: [...SYSTEM, ...range(7000, 80)] },
    ]);
    assert.deepEqual(chosen.map((s) => s.id), [1, 3], 'the system prompt alone is in both conversations');
  });

  test('the same prompt with another short reply is saved once: the rest is too short to be worth a restore', () => {
    const chosen = sequencesToSave([
      { id: 0, tokens: [...SYSTEM, 1, 2, 3] },
      { id: 1, tokens: [...SYSTEM, 4, 5] },
    ]);
    assert.deepEqual(chosen.map((s) => s.id), [0]);
  });

  test('two sequences holding the same tokens are saved once', () => {
    assert.deepEqual(sequencesToSave([{ id: 0, tokens: SYSTEM }, { id: 1, tokens: [...SYSTEM] }]).map((s) => s.id), [0]);
  });

  test('empty sequences save nothing', () => {
    assert.deepEqual(sequencesToSave([{ id: 0, tokens: [] }]), []);
  });
});

describe('when one saved prefix makes another worthless', () => {
  test('a prefix of the other, or one that differs only in fewer than the minimum tokens, is covered', () => {
    assert.equal(isCoveredBy(SYSTEM, [...SYSTEM, 1]), true);
    assert.equal(isCoveredBy([...SYSTEM, ...range(1, MIN_PREFIX_TOKENS - 1)], SYSTEM), true);
    assert.equal(isCoveredBy(SYSTEM, SYSTEM), true);
  });

  test('one that holds at least the minimum of tokens the other lacks is not', () => {
    assert.equal(isCoveredBy([...SYSTEM, ...range(1, MIN_PREFIX_TOKENS)], SYSTEM), false);
    assert.equal(isCoveredBy(range(1, 100), SYSTEM), false);
  });
});

describe('which files the byte bound evicts', () => {
  const files = [
    { path: 'b', bytes: 40, lastUsedMs: 2_000 },
    { path: 'a', bytes: 40, lastUsedMs: 1_000 },
    { path: 'c', bytes: 40, lastUsedMs: 3_000 },
  ];

  test('nothing goes while everything fits', () => {
    assert.deepEqual(filesToEvict(files, 120), []);
  });

  test('the least recently used go first, until the rest fits', () => {
    assert.deepEqual(filesToEvict(files, 119), ['a']);
    assert.deepEqual(filesToEvict(files, 79), ['a', 'b']);
    assert.deepEqual(filesToEvict(files, 0), ['a', 'b', 'c']);
  });

  test('a large old file goes before several small recent ones', () => {
    const mixed = [{ path: 'big', bytes: 100, lastUsedMs: 1 }, ...files];
    assert.deepEqual(filesToEvict(mixed, 120), ['big']);
  });

  test('files used at the same moment go in path order, so that two engines evicting at once agree', () => {
    const tied = [
      { path: 'y', bytes: 10, lastUsedMs: 5 },
      { path: 'x', bytes: 10, lastUsedMs: 5 },
    ];
    assert.deepEqual(filesToEvict(tied, 10), ['x']);
  });
});
