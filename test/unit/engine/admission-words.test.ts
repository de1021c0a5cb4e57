import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastWords, scrubPaths } from '../../../src/engine/admission-words.js';

describe('what a refusal says about a dying engine', () => {
  test('picks the failed assertion out of a GGML abort and drops the build path', () => {
    const stderr = [
      'llama_model_loader: loaded meta data with 28 key-value pairs',
      '/home/runner/work/node-llama-cpp/llama/llama.cpp/src/llama-model.cpp:1318: GGML_ASSERT(x != 0) failed',
      '',
    ].join('\n');
    assert.equal(lastWords(stderr), 'llama-model.cpp:1318: GGML_ASSERT(x != 0) failed');
  });

  test('keeps both lines of an uncaught C++ exception', () => {
    const stderr = "terminate called after throwing an instance of 'std::out_of_range'\n  what():  _Map_base::at\n";
    assert.equal(lastWords(stderr), "terminate called after throwing an instance of 'std::out_of_range' | what():  _Map_base::at");
  });

  test('skips the banner lines of a V8 fatal error', () => {
    const stderr = '\n#\n# Fatal JavaScript invalid size error 169220804\n#\n#\n#FailureMessage Object: 0x7fff\n----- Native stack trace -----\n 1: 0xd32b41  [node]\n';
    assert.equal(lastWords(stderr), 'Fatal JavaScript invalid size error 169220804');
  });

  test('the last lines stand in when nothing looks like an error', () => {
    assert.equal(lastWords('one\ntwo\nthree\nfour\n'), 'two | three | four');
  });

  test('absolute paths lose everything but their last component', () => {
    assert.equal(scrubPaths('failed to load model /var/lib/models/bundles/sha256/abc/model/model.gguf: bad'), 'failed to load model model.gguf: bad');
    assert.equal(scrubPaths('no paths here: a/b is relative'), 'no paths here: a/b is relative');
  });
});
