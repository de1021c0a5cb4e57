import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { parseOllamaGenerate } from '../../../src/ollama/generate-request.js';

describe('parseOllamaGenerate', () => {
  test('a prompt with a system prompt goes through the chat template as a system and a user turn', () => {
    const parsed = parseOllamaGenerate({ model: 'm', prompt: 'Why is the sky blue?', system: 'Be brief.' });
    assert.equal(parsed.stream, true);
    assert.equal(parsed.action, 'generate');
    assert.deepEqual(parsed.request, {
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
      sampling: {},
      thinking: { separate: true, trimAnswerStart: true },
    });
  });

  test('raw sends the prompt as a plain completion and reports the system prompt as ignored', () => {
    const parsed = parseOllamaGenerate({ model: 'm', prompt: '[INST] hi [/INST]', raw: true, system: 'x', options: { num_predict: 5 } });
    assert.deepEqual(parsed.request, { kind: 'completion', prompt: '[INST] hi [/INST]', sampling: { maxTokens: 5 } });
    assert.deepEqual(parsed.ignored, ['system']);
  });

  test('think reaches the chat request, and a raw prompt reports it as ignored', () => {
    assert.deepEqual(parseOllamaGenerate({ model: 'm', prompt: 'hi', think: true }).request, {
      kind: 'chat',
      messages: [{ role: 'user', content: 'hi' }],
      sampling: {},
      thinking: { enabled: true, separate: true, trimAnswerStart: true, required: true },
    });
    const raw = parseOllamaGenerate({ model: 'm', prompt: 'hi', raw: true, think: true });
    assert.equal(raw.request.kind, 'completion');
    assert.deepEqual(raw.ignored, ['think']);
  });

  test('suffix, template and context are accepted and reported as ignored', () => {
    const parsed = parseOllamaGenerate({ model: 'm', prompt: 'def f(', suffix: '\n  return 1', template: '{{ .Prompt }}', context: [1, 2] });
    assert.deepEqual(parsed.ignored, ['suffix', 'template', 'context']);
  });

  test('format json and a schema reach the sampling options', () => {
    assert.equal(parseOllamaGenerate({ model: 'm', prompt: 'x', format: 'json' }).request.sampling.json, true);
    const schema = { type: 'object' };
    assert.deepEqual(parseOllamaGenerate({ model: 'm', prompt: 'x', format: schema }).request.sampling.jsonSchema, schema);
  });

  test('an empty prompt loads, and with keep_alive 0 unloads', () => {
    assert.equal(parseOllamaGenerate({ model: 'm' }).action, 'load');
    assert.equal(parseOllamaGenerate({ model: 'm', prompt: '' }).action, 'load');
    assert.equal(parseOllamaGenerate({ model: 'm', prompt: '', keep_alive: 0 }).action, 'unload');
  });

  test('images are refused', () => {
    assert.throws(
      () => parseOllamaGenerate({ model: 'm', prompt: 'x', images: ['aGVsbG8='] }),
      (err: unknown) => err instanceof AppError && err.message === 'images are not supported by this model',
    );
  });
});
