import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { loadConfig, readApiKey } from '../../../src/config.js';

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
    assert.equal(config.pullChunkBytes, undefined);
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

  test('the registry stall timeout takes a duration, defaults to 30 s and must be positive', () => {
    assert.equal(loadConfig([], {}).registryStallTimeoutMs, 30_000);
    assert.equal(loadConfig(['--registry-stall-timeout', '200ms'], {}).registryStallTimeoutMs, 200);
    assert.equal(loadConfig([], { MODEL_RUNNER_REGISTRY_STALL_TIMEOUT: '2m' }).registryStallTimeoutMs, 120_000);
    assert.equal(loadConfig([], { MODEL_RUNNER_REGISTRY_STALL_TIMEOUT: '5' }).registryStallTimeoutMs, 5_000);
    assert.throws(() => loadConfig(['--registry-stall-timeout', '0'], {}), appError('bad_request', /positive duration/));
    assert.throws(() => loadConfig(['--registry-stall-timeout', '-1'], {}), appError('bad_request', /positive duration/));
  });

  test('environment credentials belong to Docker Hub unless another registry is named', () => {
    assert.equal(loadConfig([], {}).credentialsRegistry, 'docker.io');
    assert.equal(loadConfig([], { MODEL_RUNNER_CREDENTIALS_REGISTRY: 'registry.example:5000' }).credentialsRegistry, 'registry.example:5000');
  });

  test('a switch such as --insecure-bind given alone means true, and takes an explicit value after =', () => {
    assert.equal(loadConfig([], {}).insecureBind, false);
    assert.equal(loadConfig(['--insecure-bind', '--port', '1'], {}).insecureBind, true);
    assert.equal(loadConfig(['--insecure-bind', '--port', '1'], {}).port, 1);
    assert.equal(loadConfig(['--insecure-bind=false'], { MODEL_RUNNER_INSECURE_BIND: 'true' }).insecureBind, false);
    assert.throws(() => loadConfig([], { MODEL_RUNNER_INSECURE_BIND: 'maybe' }), appError('bad_request', /MODEL_RUNNER_INSECURE_BIND must be true or false/));
  });

  test('the write stall timeout is a positive duration', () => {
    assert.equal(loadConfig([], {}).writeStallTimeoutMs, 60_000);
    assert.equal(loadConfig(['--write-stall-timeout', '5m'], {}).writeStallTimeoutMs, 300_000);
    assert.equal(loadConfig(['--write-stall-timeout=1500ms'], {}).writeStallTimeoutMs, 1500);
    assert.throws(() => loadConfig(['--write-stall-timeout', '0'], {}), appError('bad_request', /--write-stall-timeout must be a positive duration/));
    assert.throws(() => loadConfig(['--write-stall-timeout', '-1'], {}), appError('bad_request', /--write-stall-timeout must be a positive duration/));
  });

  test('the API key comes from --api-key-file, else MODEL_RUNNER_API_KEY; an empty file is an error, an empty variable no key', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-key-'));
    try {
      const file = path.join(dir, 'key');
      await fs.writeFile(file, 'from-file\n');
      assert.equal(await readApiKey(loadConfig(['--api-key-file', file], {}), { MODEL_RUNNER_API_KEY: 'from-env' }), 'from-file');
      assert.equal(await readApiKey(loadConfig([], {}), { MODEL_RUNNER_API_KEY: 'from-env' }), 'from-env');
      assert.equal(await readApiKey(loadConfig([], {}), { MODEL_RUNNER_API_KEY: '' }), undefined);
      await fs.writeFile(file, '\n');
      await assert.rejects(readApiKey({ apiKeyFile: file }, {}), appError('bad_request', /is empty/));
      await assert.rejects(readApiKey({ apiKeyFile: path.join(dir, 'missing') }, {}), appError('bad_request', /cannot read the API key file .*ENOENT/));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('isolation is thread unless process is asked for, and any other value is refused', () => {
    assert.equal(loadConfig([], {}).isolation, 'thread');
    assert.equal(loadConfig([], { MODEL_RUNNER_ISOLATION: 'process' }).isolation, 'process');
    assert.equal(loadConfig(['--isolation', 'process'], {}).isolation, 'process');
    assert.throws(() => loadConfig(['--isolation', 'container'], {}), appError('bad_request', /--isolation must be one of thread, process, got "container"/));
  });

  test('proxies come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY, the lowercase forms win, and a non-http proxy URL is refused without repeating it', () => {
    assert.deepEqual(
      (({ httpProxy, httpsProxy, noProxy }) => ({ httpProxy, httpsProxy, noProxy }))(loadConfig([], {})),
      { httpProxy: undefined, httpsProxy: undefined, noProxy: undefined },
    );
    const upper = loadConfig([], { HTTP_PROXY: 'http://a:3128', HTTPS_PROXY: 'http://b:3128', NO_PROXY: 'localhost' });
    assert.equal(upper.httpProxy, 'http://a:3128');
    assert.equal(upper.httpsProxy, 'http://b:3128');
    assert.equal(upper.noProxy, 'localhost');
    const both = loadConfig([], { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: 'x', no_proxy: 'y' });
    assert.equal(both.httpsProxy, 'http://lower:2');
    assert.equal(both.noProxy, 'y');
    // An empty lowercase form switches the proxy off, as it does for curl.
    assert.equal(loadConfig([], { HTTP_PROXY: 'http://a:3128', http_proxy: '' }).httpProxy, undefined);
    assert.equal(loadConfig(['--https-proxy', 'proxy.corp:8080'], { HTTPS_PROXY: 'http://b:3128' }).httpsProxy, 'proxy.corp:8080');
    assert.throws(() => loadConfig([], { HTTPS_PROXY: 'socks5://user:hunter2@proxy:1080' }), (err: unknown) => {
      assert.ok(appError('bad_request', /HTTPS_PROXY must be an http:\/\/ proxy URL .*socks5/)(err), String(err));
      assert.ok(!(err as Error).message.includes('hunter2'));
      return true;
    });
  });

  test('the pull chunk size is adaptive unless one is given', () => {
    assert.equal(loadConfig([], {}).pullChunkBytes, undefined);
    assert.equal(loadConfig(['--pull-chunk-size', '16MiB'], {}).pullChunkBytes, 16 * 1024 * 1024);
  });
});
