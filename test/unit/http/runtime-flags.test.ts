import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRuntimeFlags, splitRawFlags, toRuntimeFlags } from '../../../src/http/docker/runtime-flags.js';

describe('runtime flags', () => {
  test('each allowed flag, long or short, with a separate or inline value, maps to its setting', () => {
    assert.deepEqual(parseRuntimeFlags(['--ctx-size', '4096', '-np', '2', '-t=8', '--batch-size=512']), {
      contextSize: 4096,
      parallel: 2,
      threads: 8,
      batchSize: 512,
    });
    assert.deepEqual(parseRuntimeFlags(['-c', '1024', '--parallel', '3', '--threads', '2', '-b', '64']), {
      contextSize: 1024,
      parallel: 3,
      threads: 2,
      batchSize: 64,
    });
  });

  test('--flash-attn alone turns it on and takes on, off or auto as an optional value', () => {
    assert.deepEqual(parseRuntimeFlags(['--flash-attn']), { flashAttention: true });
    assert.deepEqual(parseRuntimeFlags(['--flash-attn', 'off']), { flashAttention: false });
    assert.deepEqual(parseRuntimeFlags(['--flash-attn=on', '-t', '2']), { flashAttention: true, threads: 2 });
    assert.deepEqual(parseRuntimeFlags(['--flash-attn', 'auto']), {});
  });

  test('a flag outside the allowlist is refused by name', () => {
    assert.throws(() => parseRuntimeFlags(['--n-gpu-layers', '99']), { code: 'bad_request', message: /"--n-gpu-layers"/ });
    assert.throws(() => parseRuntimeFlags(['--threads', '2', '--mmproj']), { message: /"--mmproj"/ });
  });

  test('a path separator anywhere in any flag is refused', () => {
    assert.throws(() => parseRuntimeFlags(['--threads', '/4']), { message: /"\/4".*paths/ });
    assert.throws(() => parseRuntimeFlags(['-c=1\\2']), { message: /paths/ });
  });

  test('a numeric flag without an integer in its bounds is refused', () => {
    assert.throws(() => parseRuntimeFlags(['--ctx-size']), { message: /"--ctx-size".*an integer from 64 to 4194304, got nothing/ });
    assert.throws(() => parseRuntimeFlags(['-c', '1000000000000']), { message: /"-c".*an integer from 64 to 4194304/ });
    assert.throws(() => parseRuntimeFlags(['-t', '0']), { message: /"-t"/ });
    assert.throws(() => parseRuntimeFlags(['-b', 'many']), { message: /"-b"/ });
  });

  test('raw flags split on whitespace and keep quoted words together', () => {
    assert.deepEqual(splitRawFlags(' --threads  4 "-c" \'2048\' '), ['--threads', '4', '-c', '2048']);
  });

  test('stored settings render back as the flags that would set them', () => {
    assert.deepEqual(toRuntimeFlags({ threads: 4, batchSize: 128, flashAttention: false, contextSize: 10 }), [
      '--threads',
      '4',
      '--batch-size',
      '128',
      '--flash-attn',
      'off',
    ]);
  });
});
