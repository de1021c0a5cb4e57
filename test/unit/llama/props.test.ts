import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPropsResponse } from '../../../src/llama/props.js';

test('props carries the context size under default_generation_settings and the slots as total_slots', () => {
  const props = buildPropsResponse({ modelName: 'ai/demo', modelPath: '/m.gguf', contextSize: 4096, parallel: 2, version: 'b1', chatTemplate: '{{x}}' }) as {
    default_generation_settings: { n_ctx: number };
    total_slots: number;
    model_path: string;
    build_info: string;
    chat_template: string;
  };
  assert.equal(props.default_generation_settings.n_ctx, 4096);
  assert.equal(props.total_slots, 2);
  assert.equal(props.model_path, '/m.gguf');
  assert.equal(props.build_info, 'b1');
  assert.equal(props.chat_template, '{{x}}');
});
