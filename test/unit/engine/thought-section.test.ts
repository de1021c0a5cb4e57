import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatMLChatWrapper, JinjaTemplateChatWrapper, QwenChatWrapper } from '#node-llama-cpp';
import { thoughtSectionOf } from '../../../src/engine/worker/thought-section.js';
import { CHATML_TEMPLATE, THINKING_TEMPLATE } from '../../../src/gguf/tokenizer.js';

describe('thoughtSectionOf', () => {
  test('a template whose generation prompt opens <think> has a section the reply starts inside', () => {
    const section = thoughtSectionOf(new JinjaTemplateChatWrapper({ template: THINKING_TEMPLATE }));
    assert.ok(section);
    assert.deepEqual(section.markers, { open: '<think>\n', close: '\n</think>\n\n' });
    assert.equal(section.openInPrompt, true);
    assert.equal(section.openText.toString(), '<think>\n');
    assert.equal(section.emptyText.toString(), '<think>\n\n</think>\n\n', "Qwen3's enable_thinking=false form");
  });

  test("Qwen's wrapper has a section the model opens itself", () => {
    const section = thoughtSectionOf(new QwenChatWrapper());
    assert.ok(section);
    assert.deepEqual(section.markers, { open: '<think>\n', close: '\n</think>' });
    assert.equal(section.openInPrompt, false);
  });

  test('ChatML, as a wrapper or as a Jinja template, has no thinking section', () => {
    assert.equal(thoughtSectionOf(new ChatMLChatWrapper()), undefined);
    assert.equal(thoughtSectionOf(new JinjaTemplateChatWrapper({ template: CHATML_TEMPLATE })), undefined);
  });
});
