import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { formatRfc3339, goJsonStringify } from '../../../src/models/go-json.js';
import { CNCF_CONFIG, DOCKER_CONFIG_V01, DOCKER_CONFIG_V02 } from '../../../src/models/media-types.js';
import { buildDockerConfig, parseModelConfig } from '../../../src/models/model-config.js';

const LAYER_A = `sha256:${'a'.repeat(64)}`;
const LAYER_B = `sha256:${'b'.repeat(64)}`;

const dockerConfig = {
  config: {
    format: 'gguf',
    quantization: 'Q4_K_M',
    parameters: '361.82M',
    architecture: 'llama',
    size: '256.35MiB',
    gguf: { 'general.architecture': 'llama' },
    context_size: 8192,
  },
  descriptor: { created: '2025-04-01T12:00:00Z' },
  rootfs: { type: 'rootfs', diff_ids: [LAYER_A, LAYER_B] },
};

// The same model as Docker's converter writes it in CNCF form: paramSize lower-cased, no size or gguf map.
const cncfConfig = {
  descriptor: { createdAt: '2025-04-01T12:00:00Z', family: 'llama' },
  modelfs: { type: 'layers', diffIds: [LAYER_A, LAYER_B] },
  config: { architecture: 'llama', format: 'gguf', paramSize: '361.82m', quantization: 'Q4_K_M' },
};

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('parseModelConfig', () => {
  test('a Docker v0.1 config gives the API shape, the creation time in unix seconds and the diff IDs', () => {
    const parsed = parseModelConfig(DOCKER_CONFIG_V01, Buffer.from(JSON.stringify(dockerConfig)));
    assert.deepEqual(parsed.config, dockerConfig.config);
    assert.equal(parsed.created, Date.UTC(2025, 3, 1, 12) / 1000);
    assert.deepEqual(parsed.diffIds, [LAYER_A, LAYER_B]);
  });

  test('a CNCF ModelPack config normalises to the same API fields as its Docker twin', () => {
    const docker = parseModelConfig(DOCKER_CONFIG_V01, Buffer.from(JSON.stringify(dockerConfig)));
    const cncf = parseModelConfig(CNCF_CONFIG, Buffer.from(JSON.stringify(cncfConfig)));
    for (const field of ['format', 'quantization', 'parameters', 'architecture'] as const) {
      assert.equal(cncf.config[field], docker.config[field], field);
    }
    assert.deepEqual(Object.keys(cncf.config).sort(), ['architecture', 'format', 'gguf', 'parameters', 'quantization', 'size']);
    assert.equal(cncf.created, docker.created);
    assert.deepEqual(cncf.diffIds, docker.diffIds);
  });

  test('a config is read as CNCF by its keys even when it arrives under a Docker media type', () => {
    const parsed = parseModelConfig(DOCKER_CONFIG_V02, Buffer.from(JSON.stringify(cncfConfig)));
    assert.equal(parsed.config.parameters, '361.82M');
    assert.deepEqual(parsed.diffIds, [LAYER_A, LAYER_B]);
  });

  test('a config media type outside the supported list is refused as unsupported with an upgrade hint', () => {
    const err = catchAppError(() => parseModelConfig('application/vnd.docker.ai.model.config.v9+json', Buffer.from('{}')));
    assert.equal(err.code, 'unsupported');
    assert.equal(
      err.message,
      'config type "application/vnd.docker.ai.model.config.v9+json" is not supported by this version of model-runner; try upgrading',
    );
  });

  test('malformed JSON is refused with the chosen code and the config digest in the message', () => {
    const err = catchAppError(() => parseModelConfig(DOCKER_CONFIG_V01, Buffer.from('{"config":'), { digest: LAYER_A, errorCode: 'upstream' }));
    assert.equal(err.code, 'upstream');
    assert.match(err.message, new RegExp(LAYER_A));
    assert.equal(catchAppError(() => parseModelConfig(DOCKER_CONFIG_V01, Buffer.from('[1]'))).code, 'bad_request');
  });
});

describe('buildDockerConfig', () => {
  const ggufInfo = {
    architecture: 'llama',
    parameters: 134_515_008,
    quantization: 'Q8_0',
    contextLength: 2048,
    kv: { 'general.name': 'tiny <test> & co', 'general.architecture': 'llama' },
  };

  test('writes the v0.1 fields in Go struct order with formatted parameters and size', () => {
    const bytes = buildDockerConfig({
      ggufInfo,
      totalSize: 268_800_000,
      contextSize: 4096,
      created: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
      diffIds: [LAYER_A, LAYER_B],
    });
    const json = JSON.parse(bytes.toString('utf8'));
    assert.deepEqual(Object.keys(json), ['config', 'descriptor', 'rootfs']);
    assert.deepEqual(Object.keys(json.config), ['format', 'quantization', 'parameters', 'architecture', 'size', 'gguf', 'context_size']);
    assert.equal(json.config.format, 'gguf');
    assert.equal(json.config.parameters, '134.52M');
    assert.equal(json.config.size, '256.35MiB');
    assert.equal(json.config.context_size, 4096);
    assert.deepEqual(Object.keys(json.config.gguf), ['general.architecture', 'general.name']);
    assert.deepEqual(json.descriptor, { created: '2025-01-02T03:04:05Z' });
    assert.deepEqual(json.rootfs, { type: 'rootfs', diff_ids: [LAYER_A, LAYER_B] });
  });

  test('escapes HTML characters as Go does and leaves context_size out when none is given', () => {
    const text = buildDockerConfig({ ggufInfo, totalSize: 1, created: new Date(0), diffIds: [LAYER_A] }).toString('utf8');
    assert.ok(text.includes('"general.name":"tiny \\u003ctest\\u003e \\u0026 co"'), text);
    assert.ok(!text.includes('context_size'));
    assert.ok(text.includes('"created":"1970-01-01T00:00:00Z"'));
  });

  test('what it writes reads back through parseModelConfig unchanged', () => {
    const bytes = buildDockerConfig({ ggufInfo, totalSize: 2048, created: new Date(1_700_000_000_000), diffIds: [LAYER_A] });
    const parsed = parseModelConfig(DOCKER_CONFIG_V01, bytes);
    assert.equal(parsed.config.size, '2.00KiB');
    assert.equal(parsed.config.gguf['general.name'], 'tiny <test> & co');
    assert.equal(parsed.created, 1_700_000_000);
    assert.deepEqual(parsed.diffIds, [LAYER_A]);
  });
});

describe('Go-compatible encoding helpers', () => {
  test('RFC 3339 times trim trailing zeros of the fraction and keep nanoseconds', () => {
    assert.equal(formatRfc3339(new Date(Date.UTC(2025, 3, 1, 12, 0, 0, 500))), '2025-04-01T12:00:00.5Z');
    assert.equal(formatRfc3339(new Date(Date.UTC(2025, 3, 1, 12, 0, 0, 123)), 456_789), '2025-04-01T12:00:00.123456789Z');
  });

  test('line and paragraph separators are escaped like Go', () => {
    assert.equal(goJsonStringify({ a: 'x\u2028y' }), '{"a":"x\\u2028y"}');
  });
});
