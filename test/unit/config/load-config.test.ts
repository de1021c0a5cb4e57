import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config.js';

/** An AppError with this code whose message matches. */
function appError(code: string, message: RegExp) {
  return (err: unknown) => err instanceof AppError && err.code === code && message.test(err.message);
}

describe('loadConfig', () => {
  test('with no flags and no environment every setting has its default', () => {
    const config = loadConfig([], {});
    assert.equal(config.port, undefined);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.keepAlive, '5m');
    assert.equal(config.pullChunkBytes, 64 * 2 ** 20);
    assert.equal(config.maxUploadBytes, 64 * 2 ** 30);
    assert.deepEqual(config.origins, []);
  });

  test('the environment overrides a default', () => {
    assert.equal(loadConfig([], { MODEL_RUNNER_PARALLEL: '3' }).parallel, 3);
  });

  test('a flag beats the environment variable of the same setting', () => {
    const config = loadConfig(['--parallel', '4', '--host=0.0.0.0'], { MODEL_RUNNER_PARALLEL: '3', MODEL_RUNNER_HOST: '127.0.0.2' });
    assert.equal(config.parallel, 4);
    assert.equal(config.host, '0.0.0.0');
  });

  test('an unknown flag is an error rather than silently ignored', () => {
    assert.throws(() => loadConfig(['--parralel', '4'], {}), appError('bad_request', /unknown option --parralel/));
  });

  test('a flag with no value is an error', () => {
    assert.throws(() => loadConfig(['--port'], {}), appError('bad_request', /--port needs a value/));
  });

  test('--port=0 asks for any free port, and is not taken for "unset"', () => {
    assert.equal(loadConfig(['--port=0'], {}).port, 0);
    assert.equal(loadConfig(['--port', '8080'], {}).port, 8080);
  });

  test('a port out of range is refused with the name it was given by', () => {
    assert.throws(() => loadConfig(['--port=65536'], {}), appError('bad_request', /--port must be an integer from 0 to 65535/));
    assert.throws(() => loadConfig([], { MODEL_RUNNER_PORT: 'http' }), appError('bad_request', /MODEL_RUNNER_PORT must be an integer/));
  });

  test('byte sizes take binary and decimal units', () => {
    assert.equal(loadConfig(['--memory-budget', '512MiB'], {}).memoryBudgetBytes, 512 * 2 ** 20);
    assert.equal(loadConfig(['--memory-budget=8GB'], {}).memoryBudgetBytes, 8e9);
    assert.equal(loadConfig(['--pull-chunk-size', '1.5KiB'], {}).pullChunkBytes, 1536);
    assert.equal(loadConfig([], { MODEL_RUNNER_MAX_UPLOAD: '1024' }).maxUploadBytes, 1024);
  });

  test('a byte size without a number is refused', () => {
    assert.throws(() => loadConfig(['--memory-budget', 'lots'], {}), appError('bad_request', /byte size/));
  });

  test('an empty optional setting means unset', () => {
    assert.equal(loadConfig([], { MODEL_RUNNER_MEMORY_BUDGET: '' }).memoryBudgetBytes, undefined);
  });

  test('comma lists are split and trimmed', () => {
    assert.deepEqual(loadConfig(['--origins', 'http://a, http://b,'], {}).origins, ['http://a', 'http://b']);
  });

  test('the socket and models paths become absolute', () => {
    const config = loadConfig(['--socket', 'x.sock', '--models-path', 'store'], {});
    assert.equal(config.socketPath, path.resolve('x.sock'));
    assert.equal(config.modelsPath, path.resolve('store'));
  });

  test('isolation is thread unless process is asked for, and any other value is refused', () => {
    assert.equal(loadConfig([], {}).isolation, 'thread');
    assert.equal(loadConfig([], { MODEL_RUNNER_ISOLATION: 'process' }).isolation, 'process');
    assert.equal(loadConfig(['--isolation', 'process'], {}).isolation, 'process');
    assert.throws(() => loadConfig(['--isolation', 'container'], {}), appError('bad_request', /--isolation must be one of thread, process, got "container"/));
  });
});
