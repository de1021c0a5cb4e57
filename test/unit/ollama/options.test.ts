import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFormat, parseOptions } from '../../../src/ollama/options.js';
import { assertBadParam } from '../openai/assert-bad-param.js';

describe('Ollama options', () => {
  test('every supported Modelfile sampling option maps onto its SamplingOptions field', () => {
    const { sampling, numCtx } = parseOptions({
      options: {
        temperature: 0.7,
        top_p: 0.9,
        top_k: 40,
        min_p: 0.05,
        num_predict: 64,
        stop: ['\n\n', 'END'],
        seed: 42,
        repeat_penalty: 1.1,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
        num_ctx: 8192,
      },
    });
    assert.deepEqual(sampling, {
      temperature: 0.7,
      topP: 0.9,
      topK: 40,
      minP: 0.05,
      maxTokens: 64,
      stop: ['\n\n', 'END'],
      seed: 42,
      repeatPenalty: 1.1,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
    assert.equal(numCtx, 8192);
  });

  test('a request without options yields empty sampling and no context size', () => {
    assert.deepEqual(parseOptions({}), { sampling: {} });
  });

  test('num_predict -1 (no limit) and -2 (fill the context) leave the engine default in place', () => {
    assert.equal(parseOptions({ options: { num_predict: -1 } }).sampling.maxTokens, undefined);
    assert.equal(parseOptions({ options: { num_predict: -2 } }).sampling.maxTokens, undefined);
  });

  test('options the engine has no use for, such as num_thread and mirostat, are ignored rather than refused', () => {
    assert.deepEqual(parseOptions({ options: { num_thread: 8, mirostat: 1, temperature: 0 } }).sampling, { temperature: 0 });
  });

  test('an invalid option is refused with a message and param that name it under options', () => {
    assertBadParam(() => parseOptions({ options: { temperature: 'hot' } }), 'options.temperature');
    assertBadParam(() => parseOptions({ options: { num_predict: 0 } }), 'options.num_predict');
    assertBadParam(() => parseOptions({ options: { num_ctx: 0 } }), 'options.num_ctx');
    assertBadParam(() => parseOptions({ options: { num_ctx: 1.5 } }), 'options.num_ctx');
  });

  test('options that are not an object are refused', () => {
    assertBadParam(() => parseOptions({ options: [1] }), 'options');
  });
});

describe('Ollama format', () => {
  test('format "json" constrains the output to JSON', () => {
    assert.deepEqual(parseFormat({ format: 'json' }), { json: true });
    assert.equal(parseOptions({ format: 'json', options: { temperature: 0 } }).sampling.json, true);
  });

  test('a JSON schema object as format becomes the jsonSchema constraint, unchanged', () => {
    const schema = { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] };
    assert.deepEqual(parseFormat({ format: schema }), { jsonSchema: schema });
    assert.deepEqual(parseOptions({ format: schema }).sampling, { jsonSchema: schema });
  });

  test('an absent, null or empty format leaves the output free', () => {
    assert.deepEqual(parseFormat({}), {});
    assert.deepEqual(parseFormat({ format: null }), {});
    assert.deepEqual(parseFormat({ format: '' }), {});
  });

  test('any other format is refused', () => {
    assertBadParam(() => parseFormat({ format: 'yaml' }), 'format');
    assertBadParam(() => parseFormat({ format: ['json'] }), 'format');
  });
});
