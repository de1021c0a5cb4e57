import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalize, parseOllamaEmbed, parseOllamaLegacyEmbedding, toOllamaEmbedResponse, toOllamaLegacyEmbedding } from '../../../src/ollama/embed.js';
import { modelInfo, toOllamaShow } from '../../../src/ollama/show.js';
import { assertBadParam } from '../openai/assert-bad-param.js';

const gguf = {
  'general.architecture': 'llama',
  'general.name': '1.0',
  'general.parameter_count': '361821120',
  'llama.context_length': '8192',
  'llama.rope.freq_base': '100000.000000',
  'tokenizer.ggml.add_bos_token': 'false',
  'tokenizer.chat_template': '{% if tools %}{{ tools }}{% endif %}{{ messages }}',
  'general.license': 'apache-2.0',
};
const model = {
  id: `sha256:${'a'.repeat(64)}`,
  tags: ['docker.io/ai/smollm2:latest'],
  created: 1745900000,
  config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB', gguf, context_size: 8192 },
};

describe('/api/show', () => {
  test('model_info holds typed GGUF values, keeps general.* text as text, and leaves out the template', () => {
    const info = modelInfo(gguf);
    assert.equal(info['general.name'], '1.0');
    assert.equal(info['general.parameter_count'], 361821120);
    assert.equal(info['llama.context_length'], 8192);
    assert.equal(info['llama.rope.freq_base'], 100000);
    assert.equal(info['tokenizer.ggml.add_bos_token'], false);
    assert.equal('tokenizer.chat_template' in info, false);
  });

  test('the answer carries license, template, parameters, modelfile, details and capabilities', () => {
    const show = toOllamaShow('smollm2', model, ['completion', 'tools']);
    assert.equal(show.license, 'apache-2.0');
    assert.equal(show.template, gguf['tokenizer.chat_template']);
    assert.match(show.parameters, /^num_ctx\s+8192$/);
    assert.match(show.modelfile, /^FROM smollm2$/m);
    assert.match(show.modelfile, /^PARAMETER num_ctx 8192$/m);
    assert.equal(show.details.family, 'llama');
    assert.deepEqual(show.capabilities, ['completion', 'tools']);
  });

  test('a model without template or license omits both fields', () => {
    const show = toOllamaShow('m', { ...model, config: { ...model.config, gguf: {} } }, ['completion']);
    assert.equal('template' in show, false);
    assert.equal('license' in show, false);
  });

  test("a created model's extras are reported: system, messages, parameters in name order (a list one line per item), license layers over the GGUF's", () => {
    const extras = {
      system: 'Be brief.',
      parameters: { temperature: 0, stop: ['A', 'B'] },
      messages: [{ role: 'user', content: 'Hi' }],
      licenses: ['MIT', 'Other'],
    };
    const show = toOllamaShow('m', model, ['completion'], extras);
    assert.equal(show.system, 'Be brief.');
    assert.deepEqual(show.messages, [{ role: 'user', content: 'Hi' }]);
    assert.equal(show.license, 'MIT\nOther');
    assert.deepEqual(show.parameters.split('\n').map((line) => line.split(/\s+/)), [
      ['num_ctx', '8192'],
      ['stop', '"A"'],
      ['stop', '"B"'],
      ['temperature', '0'],
    ]);
    assert.match(show.modelfile, /^SYSTEM """Be brief\."""$/m);
    assert.match(show.modelfile, /^PARAMETER stop "B"$/m);
    assert.match(show.modelfile, /^MESSAGE user """Hi"""$/m);
    assert.match(show.modelfile, /^LICENSE """MIT\nOther"""$/m);
  });
});

describe('/api/embed and /api/embeddings', () => {
  test('input may be a string or an array of strings', () => {
    assert.deepEqual(parseOllamaEmbed({ model: 'm', input: 'a' }).request, { inputs: ['a'] });
    assert.deepEqual(parseOllamaEmbed({ model: 'm', input: ['a', 'b'], keep_alive: '1m' }), {
      model: 'm',
      request: { inputs: ['a', 'b'] },
      keepAlive: '1m',
    });
  });

  test('a missing or malformed input and a dimensions request are refused', () => {
    assertBadParam(() => parseOllamaEmbed({ model: 'm' }), 'input');
    assertBadParam(() => parseOllamaEmbed({ model: 'm', input: [1, 2] }), 'input');
    assertBadParam(() => parseOllamaEmbed({ model: 'm', input: 'a', dimensions: 64 }), 'dimensions');
  });

  test('the embed answer normalises vectors and reports durations in nanoseconds', () => {
    const body = toOllamaEmbedResponse('m', { vectors: [[3, 4], [0, 0]], promptTokens: 7 }, { totalMs: 5, loadMs: 1 });
    assert.deepEqual(body, { model: 'm', embeddings: [[0.6, 0.8], [0, 0]], total_duration: 5_000_000, load_duration: 1_000_000, prompt_eval_count: 7 });
    assert.deepEqual(normalize([0, 2]), [0, 1]);
  });

  test('the legacy route takes a prompt and returns the raw vector as `embedding`', () => {
    assert.deepEqual(parseOllamaLegacyEmbedding({ model: 'm', prompt: 'hi' }).request, { inputs: ['hi'] });
    assert.deepEqual(parseOllamaLegacyEmbedding({ model: 'm' }).request, { inputs: [] });
    assert.deepEqual(toOllamaLegacyEmbedding({ vectors: [[3, 4]], promptTokens: 1 }), { embedding: [3, 4] });
    assert.deepEqual(toOllamaLegacyEmbedding({ vectors: [], promptTokens: 0 }), { embedding: [] });
  });
});
