import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSemantics, MAX_CHAT_TEMPLATE_BYTES } from '../../../src/gguf/check-semantics.js';
import { GgufValueType } from '../../../src/gguf/constants.js';
import type { GgufFile, GgufValue } from '../../../src/gguf/types.js';

/** A header with just these metadata entries (llama architecture). */
function header(entries: Record<string, GgufValue>): GgufFile {
  const metadata = new Map(Object.entries({ 'general.architecture': 'llama', ...entries }).map(([key, value]) => [key, { key, value }]));
  return { path: 'm.gguf', version: 3, metadata, tensors: [] } as unknown as GgufFile;
}

const scores = { itemType: GgufValueType.FLOAT32, length: 1, items: [0], truncated: false };

describe('meaning checks on GGUF metadata', () => {
  test('a healthy header has no problems', () => {
    assert.deepEqual(checkSemantics(header({ 'llama.rope.scaling.type': 'yarn', 'llama.attention.layer_norm_rms_epsilon': 1e-5, 'tokenizer.ggml.model': 'gpt2' })), []);
  });

  test('a rope scaling type llama.cpp does not know is refused (it aborts the load)', () => {
    for (const value of ['bogus', '', 'linear\u0000']) {
      assert.match(checkSemantics(header({ 'llama.rope.scaling.type': value })).join(), /llama\.rope\.scaling\.type is .*expected one of none, linear, yarn, longrope/);
    }
  });

  test('a negative or non-finite norm epsilon is refused (ggml asserts eps >= 0)', () => {
    for (const value of [-1e-5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.match(checkSemantics(header({ 'llama.attention.layer_norm_rms_epsilon': value })).join(), /layer_norm_rms_epsilon is .*finite number of at least 0/);
    }
    assert.deepEqual(checkSemantics(header({ 'llama.attention.layer_norm_rms_epsilon': 0 })), []);
  });

  test('expert groups on a dense model are refused', () => {
    assert.match(checkSemantics(header({ 'llama.expert_group_count': 1 })).join(), /expert_group_count is 1 on a model without experts/);
  });

  test('tokenizer models llama.cpp cannot tokenize with are refused', () => {
    for (const value of ['bogus', 'none', 'no_vocab', '']) {
      assert.match(checkSemantics(header({ 'tokenizer.ggml.model': value })).join(), /tokenizer\.ggml\.model is .*expected one of/);
    }
  });

  test('a SentencePiece tokenizer without scores is refused (llama.cpp throws std::out_of_range)', () => {
    assert.match(checkSemantics(header({ 'tokenizer.ggml.model': 'llama' })).join(), /"llama" but tokenizer\.ggml\.scores is missing/);
    assert.deepEqual(checkSemantics(header({ 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.scores': scores })), []);
  });

  test('an empty token list is refused (llama.cpp asserts on the zero-row embedding)', () => {
    assert.match(checkSemantics(header({ 'tokenizer.ggml.tokens': { itemType: GgufValueType.STRING, length: 0, items: [], truncated: false } })).join(), /tokenizer\.ggml\.tokens is empty/);
  });

  test('a chat template over the size limit is refused', () => {
    assert.match(checkSemantics(header({ 'tokenizer.chat_template': 'x'.repeat(MAX_CHAT_TEMPLATE_BYTES + 1) })).join(), /tokenizer\.chat_template is \d+ bytes/);
    assert.deepEqual(checkSemantics(header({ 'tokenizer.chat_template': 'x'.repeat(MAX_CHAT_TEMPLATE_BYTES) })), []);
  });
});
