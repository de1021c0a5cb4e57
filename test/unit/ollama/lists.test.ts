import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSizeText, toOllamaDetails } from '../../../src/ollama/details.js';
import { FOREVER_ISO, toOllamaPs, toOllamaTags } from '../../../src/ollama/lists.js';
import { digestHex, displayName } from '../../../src/ollama/names.js';

const ID = `sha256:${'a'.repeat(64)}`;
const model = {
  id: ID,
  tags: ['docker.io/ai/smollm2:latest', 'docker.io/ai/smollm2:360M-Q4_K_M'],
  created: 1745900000,
  config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB' },
};

describe('display names', () => {
  test('the default registry and the ai/ namespace are stripped, and the tag is kept', () => {
    assert.equal(displayName('docker.io/ai/smollm2:latest'), 'smollm2:latest');
    assert.equal(displayName('index.docker.io/ai/smollm2:360M'), 'smollm2:360M');
    assert.equal(displayName('ai/smollm2'), 'smollm2:latest');
  });

  test('other namespaces and registries are kept as they are', () => {
    assert.equal(displayName('docker.io/myorg/model:1'), 'myorg/model:1');
    assert.equal(displayName('registry.local:5000/ai/model:v2'), 'registry.local:5000/ai/model:v2');
    assert.equal(displayName('hf.co/bartowski/x-GGUF:Q4'), 'hf.co/bartowski/x-GGUF:Q4');
  });

  test('a model ID digest is reported as bare hex', () => {
    assert.equal(digestHex(ID), 'a'.repeat(64));
  });
});

describe('sizes and details', () => {
  test('Docker size text converts back to bytes', () => {
    assert.equal(parseSizeText('256.35MiB'), Math.round(256.35 * 1024 * 1024));
    assert.equal(parseSizeText('512B'), 512);
    assert.equal(parseSizeText('1.5 GB'), 1_500_000_000);
    assert.equal(parseSizeText(''), 0);
    assert.equal(parseSizeText('big'), 0);
  });

  test('details name the format, family, parameter size and quantization', () => {
    assert.deepEqual(toOllamaDetails(model.config), {
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '361.82M',
      quantization_level: 'Q4_K_M',
    });
  });
});

describe('/api/tags', () => {
  test('each tag of each model is one entry with its display name, time, size, digest and details', () => {
    const untagged = { ...model, id: `sha256:${'c'.repeat(64)}`, tags: [] };
    const { models } = toOllamaTags([model, untagged]);
    assert.deepEqual(
      models.map((m) => m.name),
      ['smollm2:latest', 'smollm2:360M-Q4_K_M'],
    );
    assert.deepEqual(models[0], {
      name: 'smollm2:latest',
      model: 'smollm2:latest',
      modified_at: '2025-04-29T04:13:20.000Z',
      size: parseSizeText('256.35MiB'),
      digest: 'a'.repeat(64),
      details: toOllamaDetails(model.config),
    });
  });
});

describe('/api/ps', () => {
  const entry = {
    id: ID,
    name: 'smollm2:360M-Q4_K_M',
    contextSize: 4096,
    memoryBytes: 123456,
    keepAlive: '5m',
    expiresAt: '2026-01-01T00:05:00.000Z',
  };

  test('a loaded model shows its tag as loaded, memory size, digest, details, expiry, zero VRAM and context length', () => {
    assert.deepEqual(toOllamaPs([entry], [model]).models, [
      {
        name: 'smollm2:360M-Q4_K_M',
        model: 'smollm2:360M-Q4_K_M',
        size: 123456,
        digest: 'a'.repeat(64),
        details: toOllamaDetails(model.config),
        expires_at: '2026-01-01T00:05:00.000Z',
        size_vram: 0,
        context_length: 4096,
      },
    ]);
  });

  test('a model loaded by a name that is not one of its tags shows its first tag', () => {
    assert.equal(toOllamaPs([{ ...entry, name: ID }], [model]).models[0]!.name, 'smollm2:latest');
  });

  test('a model in use expires one keep-alive from now, and one kept forever at Ollama far-future time', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    assert.equal(toOllamaPs([{ ...entry, expiresAt: null }], [model], { now }).models[0]!.expires_at, '2026-01-01T00:05:00.000Z');
    assert.equal(toOllamaPs([{ ...entry, expiresAt: null, keepAlive: '-1' }], [model], { now }).models[0]!.expires_at, FOREVER_ISO);
  });
});
