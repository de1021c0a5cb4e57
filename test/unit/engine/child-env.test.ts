import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineChildEnv } from '../../../src/engine/child-env.js';

describe('the environment of engine child processes', () => {
  test('registry passwords, tokens, API keys and registry user names are left out', () => {
    const env = engineChildEnv({
      DOCKER_PASSWORD: 'a',
      DOCKER_HUB_PASSWORD: 'b',
      DOCKER_USERNAME: 'c',
      DOCKER_HUB_USER: 'd',
      MODEL_RUNNER_API_KEY: 'e',
      GITHUB_TOKEN: 'f',
      AWS_SECRET_ACCESS_KEY: 'g',
      REGISTRY_AUTH: 'h',
    });
    assert.deepEqual(env, {});
  });

  test('everything else is kept, and the extras are added', () => {
    const env = engineChildEnv({ PATH: '/usr/bin', HOME: '/root', CUDA_VISIBLE_DEVICES: '0', MODEL_RUNNER_TEST_FAULTS: '1' }, { GGML_NO_BACKTRACE: '1' });
    assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/root', CUDA_VISIBLE_DEVICES: '0', MODEL_RUNNER_TEST_FAULTS: '1', GGML_NO_BACKTRACE: '1' });
  });
});
