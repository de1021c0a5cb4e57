import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capabilitiesOf, isReranker, primaryMode } from '../../../src/models/capabilities.js';

describe('what a stored model can do', () => {
  test('completion alone without tools in the template, and tools when the template knows them', () => {
    assert.deepEqual(capabilitiesOf({ architecture: 'llama', gguf: { 'tokenizer.chat_template': '{{ messages }}' } }), ['completion']);
    assert.deepEqual(capabilitiesOf({ architecture: 'llama', gguf: { 'tokenizer.chat_template': '{% if tools %}{% endif %}' } }), ['completion', 'tools']);
  });

  test('thinking when the template has a reasoning section: its <think> marker, Qwen3 enable_thinking or past reasoning_content', () => {
    for (const template of ['{{ "<think>\n" }}', '{% if enable_thinking is false %}{% endif %}', '{{ message.reasoning_content }}']) {
      assert.deepEqual(capabilitiesOf({ architecture: 'llama', gguf: { 'tokenizer.chat_template': template } }), ['completion', 'thinking'], template);
    }
  });

  test('encoders and models that name a pooling type embed, and are checked by embedding when they arrive', () => {
    assert.deepEqual(capabilitiesOf({ architecture: 'bert', gguf: {} }), ['embedding']);
    assert.deepEqual(capabilitiesOf({ architecture: 'qwen3', gguf: { 'qwen3.pooling_type': '3' } }), ['embedding']);
    assert.equal(primaryMode({ architecture: 'nomic-bert' }), 'embedding');
    assert.equal(primaryMode({ architecture: 'llama', gguf: {} }), 'completion');
  });

  test('a model with pooling type rank is a reranker and is checked by reranking when it arrives', () => {
    const reranker = { architecture: 'bert', gguf: { 'bert.pooling_type': '4' } };
    assert.equal(isReranker(reranker), true);
    assert.equal(primaryMode(reranker), 'reranking');
    assert.equal(isReranker({ architecture: 'bert', gguf: { 'bert.pooling_type': '2' } }), false);
    assert.equal(isReranker({ architecture: 'llama', gguf: {} }), false);
  });
});
