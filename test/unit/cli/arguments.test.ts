import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseCommandArgs } from '../../../src/cli/client/args.js';
import { modelPath } from '../../../src/cli/client/client.js';
import { notRunningMessage, resolveTarget } from '../../../src/cli/client/target.js';
import { parseConfigureArgs } from '../../../src/cli/configure.js';
import { splitTarget } from '../../../src/cli/tag.js';
import { AppError } from '../../../src/errors.js';

describe('the server target', () => {
  test('without flags or environment it is model-runner.sock in the working directory', () => {
    assert.deepEqual(resolveTarget({}, {}), { kind: 'socket', socketPath: path.resolve('model-runner.sock') });
  });

  test('flags win over the environment and --url wins over --socket', () => {
    const env = { MODEL_RUNNER_SOCK: '/env.sock', MODEL_RUNNER_HOST_URL: 'http://127.0.0.1:1' };
    assert.deepEqual(resolveTarget({ socket: '/flag.sock' }, env), { kind: 'socket', socketPath: path.resolve('/flag.sock') });
    const target = resolveTarget({ socket: '/flag.sock', url: 'http://127.0.0.1:12434' }, env);
    assert.equal(target.kind === 'url' && target.url.port, '12434');
  });

  test('the environment URL wins over the environment socket', () => {
    const target = resolveTarget({}, { MODEL_RUNNER_SOCK: '/env.sock', MODEL_RUNNER_HOST_URL: 'http://localhost:9' });
    assert.equal(target.kind, 'url');
    assert.deepEqual(resolveTarget({}, { MODEL_RUNNER_SOCK: '/env.sock' }), { kind: 'socket', socketPath: path.resolve('/env.sock') });
  });

  test('a URL target carries MODEL_RUNNER_API_KEY for the TCP listener; a socket target does not need it', () => {
    const env = { MODEL_RUNNER_API_KEY: ' k3y ', MODEL_RUNNER_SOCK: '/env.sock' };
    const target = resolveTarget({ url: 'http://127.0.0.1:12434' }, env);
    assert.equal(target.kind === 'url' && target.apiKey, 'k3y');
    assert.deepEqual(resolveTarget({}, env), { kind: 'socket', socketPath: path.resolve('/env.sock') });
  });

  test('a malformed or non-http URL is a usage error that names where it came from', () => {
    assert.throws(() => resolveTarget({ url: 'not a url' }, {}), /--url must be a URL/);
    assert.throws(() => resolveTarget({}, { MODEL_RUNNER_HOST_URL: 'https://x:1' }), /MODEL_RUNNER_HOST_URL must use http/);
  });

  test('the not-running message names the socket and how to start the server', () => {
    assert.equal(
      notRunningMessage({ kind: 'socket', socketPath: '/run/mr.sock' }),
      'model-runner is not running (no socket at /run/mr.sock); start it with `model-runner serve`',
    );
  });

  test('a socket file nobody answers on is reported as not running too, without claiming it is missing', () => {
    const message = notRunningMessage({ kind: 'socket', socketPath: '/run/mr.sock' }, true);
    assert.match(message, /^model-runner is not running \(nothing answers on the socket at \/run\/mr\.sock\)/);
  });
});

describe('command arguments', () => {
  test('connection flags are accepted by every command next to its own', () => {
    const parsed = parseCommandArgs(['--socket', '/s', 'MODEL', '-f'], { force: { type: 'boolean', short: 'f' } }, 'usage');
    assert.equal(parsed?.values.socket, '/s');
    assert.equal(parsed?.values.force, true);
    assert.deepEqual(parsed?.positionals, ['MODEL']);
  });

  test('an unknown flag is a usage error carrying the usage text', () => {
    assert.throws(
      () => parseCommandArgs(['--nope'], {}, 'Usage: model-runner thing'),
      (err: unknown) => err instanceof AppError && err.code === 'bad_request' && err.message.includes('Usage: model-runner thing'),
    );
  });

  test('model paths keep slashes between segments and escape everything else', () => {
    assert.equal(modelPath('ai/smollm2:latest'), '/models/ai/smollm2%3Alatest');
    assert.equal(modelPath('hf.co/org/a b', '/push'), '/models/hf.co/org/a%20b/push');
  });

  test('a tag target splits at the colon after the last slash and defaults to latest', () => {
    assert.deepEqual(splitTarget('myorg/model:v2'), { repo: 'myorg/model', tag: 'v2' });
    assert.deepEqual(splitTarget('localhost:5000/model'), { repo: 'localhost:5000/model', tag: 'latest' });
    assert.deepEqual(splitTarget('localhost:5000/model:1'), { repo: 'localhost:5000/model', tag: '1' });
  });
});

describe('configure arguments', () => {
  test('settings become the _configure body and everything after -- is passed as runtime flags', () => {
    const parsed = parseConfigureArgs(['ai/smollm2', '--context-size', '8192', '--keep-alive', '10m', '--parallel', '2', '--', '--temp', '0.7', '--socket', 'x']);
    assert.deepEqual(parsed?.body, {
      model: 'ai/smollm2',
      mode: 'completion',
      'context-size': 8192,
      parallel: 2,
      keep_alive: '10m',
      'runtime-flags': ['--temp', '0.7', '--socket', 'x'],
    });
    assert.equal(parsed?.values.socket, undefined);
  });

  test('a context size or parallel outside the server\'s bounds is refused before anything is sent', () => {
    assert.throws(() => parseConfigureArgs(['m', '--context-size', '0']), /--context-size must be an integer from 64 to 4194304/);
    assert.throws(() => parseConfigureArgs(['m', '--context-size', '1000000000000']), /--context-size must be an integer from 64 to 4194304/);
    assert.throws(() => parseConfigureArgs(['m', '--parallel', 'two']), /--parallel must be an integer from 1 to 64/);
  });

  test('configure without any setting is a usage error', () => {
    assert.throws(() => parseConfigureArgs(['m']), /at least one setting/);
    assert.throws(() => parseConfigureArgs(['m', '--mode', 'rerank', '--parallel', '1']), /--mode must be completion, embedding or reranking/);
  });
});
