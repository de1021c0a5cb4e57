import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadFailureReason } from '../../../src/engine/worker/load-failure.js';

describe("llama.cpp's reason for refusing a model", () => {
  test('the "error loading model:" line gives the reason, with its padding collapsed', () => {
    const lines = [
      "llama_model_load: error loading model: check_tensor_dims: tensor 'blk.0.attn_norm.weight' has wrong shape; expected     64, got     32",
      'llama_model_load_from_file_impl: failed to load model',
    ];
    assert.equal(loadFailureReason(lines), "check_tensor_dims: tensor 'blk.0.attn_norm.weight' has wrong shape; expected 64, got 32");
  });

  test('without such a line the first error line is the reason, and no lines give none', () => {
    assert.equal(loadFailureReason(['gguf_init_from_file_impl: invalid magic', 'llama_model_load: failed']), 'gguf_init_from_file_impl: invalid magic');
    assert.equal(loadFailureReason([]), undefined);
  });
});
