import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSampling } from '../../../src/openai/sampling.js';
import { assertBadParam } from './assert-bad-param.js';

describe('parseSampling', () => {
  test('every supported OpenAI and llama-server parameter maps onto its SamplingOptions field', () => {
    const sampling = parseSampling({
      max_tokens: 64,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      min_p: 0.05,
      stop: ['\n\n', 'END'],
      seed: 42,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      repeat_penalty: 1.1,
      logit_bias: { '15043': 5, '50256': -100 },
      ignore_eos: true,
    });
    assert.deepEqual(sampling, {
      maxTokens: 64,
      temperature: 0.7,
      topP: 0.9,
      topK: 40,
      minP: 0.05,
      stop: ['\n\n', 'END'],
      seed: 42,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      repeatPenalty: 1.1,
      logitBias: { 15043: 5, 50256: -100 },
      ignoreEos: true,
    });
  });

  test('an empty body yields no options, and explicit nulls count as absent', () => {
    assert.deepEqual(parseSampling({}), {});
    assert.deepEqual(parseSampling({ temperature: null, stop: null, max_tokens: null }), {});
  });

  test('max_completion_tokens wins over max_tokens and -1 means no limit', () => {
    assert.equal(parseSampling({ max_tokens: 10, max_completion_tokens: 20 }).maxTokens, 20);
    assert.equal(parseSampling({ max_tokens: -1 }).maxTokens, undefined);
  });

  test('a single stop string becomes a one-element list', () => {
    assert.deepEqual(parseSampling({ stop: 'END' }).stop, ['END']);
  });

  test('a negative seed is left to the engine as random', () => {
    assert.equal(parseSampling({ seed: -1 }).seed, undefined);
  });

  test('response_format json_object asks for JSON and json_schema passes its schema', () => {
    assert.deepEqual(parseSampling({ response_format: { type: 'text' } }), {});
    assert.deepEqual(parseSampling({ response_format: { type: 'json_object' } }), { json: true });
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    assert.deepEqual(parseSampling({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }), {
      jsonSchema: schema,
    });
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['temperature above 2', { temperature: 2.5 }, 'temperature'],
    ['temperature as a string', { temperature: 'hot' }, 'temperature'],
    ['top_p above 1', { top_p: 1.5 }, 'top_p'],
    ['a fractional top_k', { top_k: 1.5 }, 'top_k'],
    ['min_p below 0', { min_p: -0.1 }, 'min_p'],
    ['max_tokens of 0', { max_tokens: 0 }, 'max_tokens'],
    ['a fractional max_completion_tokens', { max_completion_tokens: 2.5 }, 'max_completion_tokens'],
    ['17 stop strings', { stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, 'stop'],
    ['a stop list holding a number', { stop: ['a', 1] }, 'stop'],
    ['a fractional seed', { seed: 1.5 }, 'seed'],
    ['presence_penalty below -2', { presence_penalty: -3 }, 'presence_penalty'],
    ['frequency_penalty above 2', { frequency_penalty: 3 }, 'frequency_penalty'],
    ['a negative repeat_penalty', { repeat_penalty: -1 }, 'repeat_penalty'],
    ['logit_bias with a word key', { logit_bias: { hello: 1 } }, 'logit_bias'],
    ['logit_bias beyond 100', { logit_bias: { '1': 101 } }, 'logit_bias'],
    ['logit_bias as an array', { logit_bias: [1] }, 'logit_bias'],
    ['an unknown response_format type', { response_format: { type: 'xml' } }, 'response_format.type'],
    ['json_schema without its object', { response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
    ['a json_schema schema that is not an object', { response_format: { type: 'json_schema', json_schema: { schema: 'x' } } }, 'response_format.json_schema.schema'],
    ['ignore_eos as a string', { ignore_eos: 'yes' }, 'ignore_eos'],
  ];
  for (const [what, body, param] of invalid) {
    test(`${what} is a bad request naming ${param}`, () => {
      assertBadParam(() => parseSampling(body), param);
    });
  }
});
