import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { parseBlobDigest, parseOllamaCreate } from '../../../src/ollama/create-request.js';

const HEX = 'ab'.repeat(32);
const DIGEST = `sha256:${HEX}`;

/** The bad_request message a parse throws. */
function refusal(body: unknown): string {
  try {
    parseOllamaCreate(body);
  } catch (err) {
    assert.ok(isAppError(err) && err.code === 'bad_request', String(err));
    return err.message;
  }
  throw new Error('the body was accepted');
}

describe('Ollama create request parsing', () => {
  test('files become uploaded files with their digests, and the extras are kept as given', () => {
    const parsed = parseOllamaCreate({
      model: 'mine',
      files: { 'weights/model.gguf': DIGEST },
      system: 'Be brief.',
      parameters: { temperature: 0.2, stop: ['END'], num_ctx: 4096 },
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }],
      license: ['MIT', 'Apache-2.0'],
      stream: false,
    });
    assert.equal(parsed.model, 'mine');
    assert.equal(parsed.stream, false);
    assert.deepEqual(parsed.request, {
      files: [{ name: 'weights/model.gguf', digest: DIGEST }],
      system: 'Be brief.',
      parameters: { temperature: 0.2, stop: ['END'], num_ctx: 4096 },
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }],
      licenses: ['MIT', 'Apache-2.0'],
    });
  });

  test('from names the model to start from; streaming is the default and empty extras are left out', () => {
    const parsed = parseOllamaCreate({ name: 'copy', from: 'base:latest', system: '', license: '', messages: [] });
    assert.equal(parsed.model, 'copy');
    assert.equal(parsed.stream, true);
    assert.deepEqual(parsed.request, { from: 'base:latest' });
  });

  test("neither from nor files is Ollama's own refusal; both at once is refused too", () => {
    assert.equal(refusal({ model: 'm', system: 'x' }), "neither 'from' or 'files' was specified");
    assert.match(refusal({ model: 'm', from: 'a', files: { 'a.gguf': DIGEST } }), /either 'from' or 'files'/);
  });

  test('quantize, adapters and a Go template are refused with what this server does instead', () => {
    assert.match(refusal({ model: 'm', from: 'a', quantize: 'q4_K_M' }), /quantize is not supported.*does not quantize/);
    assert.match(refusal({ model: 'm', from: 'a', quantization: 'q8_0' }), /quantization is not supported/);
    assert.match(refusal({ model: 'm', from: 'a', adapters: { 'lora.gguf': DIGEST } }), /adapters are not supported/);
    assert.match(refusal({ model: 'm', from: 'a', template: '{{ .Prompt }}' }), /template is not supported.*Jinja/);
    // Empty values ask for nothing and pass.
    assert.doesNotThrow(() => parseOllamaCreate({ model: 'm', from: 'a', quantize: '', adapters: {}, template: '' }));
  });

  test('file names must be relative paths without dot elements, and safetensors are not converted', () => {
    for (const name of ['/etc/passwd', '../model.gguf', 'a/./b.gguf', 'a//b.gguf', 'a\\b.gguf']) {
      assert.match(refusal({ model: 'm', files: { [name]: DIGEST } }), /file path must be relative/, name);
    }
    assert.match(refusal({ model: 'm', files: { 'model.safetensors': DIGEST } }), /safetensors.*GGUF/);
    assert.match(refusal({ model: 'm', files: {} }), /files is empty/);
    assert.match(refusal({ model: 'm', files: ['model.gguf'] }), /files must be an object/);
  });

  test('a digest in a file map or a blob path must be sha256 with 64 lowercase hex digits; Ollama file names spell it with a dash', () => {
    assert.equal(parseBlobDigest(`sha256-${HEX}`), DIGEST);
    assert.equal(parseBlobDigest(DIGEST), DIGEST);
    for (const bad of ['', 'sha256:abc', `sha512:${HEX}`, `sha256:${HEX.toUpperCase()}`, 42]) {
      assert.throws(() => parseBlobDigest(bad), /invalid digest format/, String(bad));
    }
    assert.match(refusal({ model: 'm', files: { 'model.gguf': '' } }), /invalid digest format/);
  });

  test("parameters are checked as a request's options and named as parameters; messages need a known role and string content", () => {
    assert.match(refusal({ model: 'm', from: 'a', parameters: { temperature: 'hot' } }), /^parameters\.temperature/);
    assert.match(refusal({ model: 'm', from: 'a', parameters: { num_ctx: 0 } }), /parameters\.num_ctx/);
    assert.match(refusal({ model: 'm', from: 'a', parameters: 'temperature 0' }), /parameters must be an object/);
    assert.match(refusal({ model: 'm', from: 'a', messages: [{ role: 'narrator', content: 'x' }] }), /messages\[0\]\.role/);
    assert.match(refusal({ model: 'm', from: 'a', messages: [{ role: 'user' }] }), /messages\[0\] must be an object/);
    assert.match(refusal({ model: 'm', from: 'a', license: [1] }), /license must be a string/);
  });
});
