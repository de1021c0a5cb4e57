import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildChatCompletion, buildTextCompletion } from '../../../src/openai/chat-response.js';
import { buildEmbeddingsResponse } from '../../../src/openai/embeddings-response.js';
import { newResponseId } from '../../../src/openai/ids.js';
import { toOpenAIModel, toOpenAIModelList } from '../../../src/openai/models.js';

const meta = { id: 'chatcmpl-1', created: 1700000000, model: 'ai/smollm2' };
const usage = { promptTokens: 10, completionTokens: 5 };

describe('response builders', () => {
  test('a chat completion carries the text, finish reason, logprobs null and usage with cached tokens', () => {
    assert.deepEqual(buildChatCompletion({ ...meta, systemFingerprint: 'b1' }, { text: 'Hi', toolCalls: [], finishReason: 'length', usage: { ...usage, cachedTokens: 3 } }), {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'ai/smollm2',
      system_fingerprint: 'b1',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'length', logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 3 } },
    });
  });

  test('a chat completion that only calls tools has null content and OpenAI-shaped tool_calls', () => {
    const body = buildChatCompletion(meta, {
      text: '',
      toolCalls: [{ id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}' }],
      finishReason: 'tool_calls',
      usage,
    });
    assert.deepEqual(body.choices[0]!.message, {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
    });
    assert.equal(body.choices[0]!.finish_reason, 'tool_calls');
    assert.equal('system_fingerprint' in body, false);
  });

  test('an aborted generation is reported with finish_reason stop', () => {
    assert.equal(buildChatCompletion(meta, { text: 'x', toolCalls: [], finishReason: 'abort', usage }).choices[0]!.finish_reason, 'stop');
  });

  test('a text completion has the text_completion shape', () => {
    assert.deepEqual(buildTextCompletion({ ...meta, id: 'cmpl-1' }, { text: 'more', finishReason: 'stop', usage }), {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1700000000,
      model: 'ai/smollm2',
      choices: [{ index: 0, text: 'more', finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  test('response ids carry OpenAI prefixes and differ between calls', () => {
    const a = newResponseId('chatcmpl');
    assert.match(a, /^chatcmpl-[0-9a-f]{30}$/);
    assert.notEqual(a, newResponseId('chatcmpl'));
    assert.match(newResponseId('cmpl'), /^cmpl-/);
  });

  test('an embeddings list numbers the vectors and reports prompt tokens as the total', () => {
    assert.deepEqual(buildEmbeddingsResponse({ model: 'e', result: { vectors: [[1, 2], [3, 4]], promptTokens: 6 } }), {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [1, 2] },
        { object: 'embedding', index: 1, embedding: [3, 4] },
      ],
      model: 'e',
      usage: { prompt_tokens: 6, total_tokens: 6 },
    });
  });

  test('base64 embeddings are little-endian float32 that decode back to the vector', () => {
    const body = buildEmbeddingsResponse({ model: 'e', result: { vectors: [[0.5, -2, 1]], promptTokens: 1 }, encodingFormat: 'base64' });
    const bytes = Buffer.from(body.data[0]!.embedding as string, 'base64');
    assert.deepEqual([0, 1, 2].map((i) => bytes.readFloatLE(i * 4)), [0.5, -2, 1]);
  });

  test('a Docker model becomes an OpenAI model named by its first tag with the dmr details', () => {
    const model = {
      id: 'sha256:abc',
      tags: ['docker.io/ai/smollm2:latest', 'docker.io/ai/smollm2:360M'],
      created: 1745900000,
      config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB', context_size: 8192 },
    };
    assert.deepEqual(toOpenAIModel(model), {
      id: 'docker.io/ai/smollm2:latest',
      object: 'model',
      created: 1745900000,
      owned_by: 'docker',
      dmr: { context_window: 8192, architecture: 'llama', parameters: '361.82M', quantization: 'Q4_K_M', size: '256.35MiB' },
    });
    assert.equal(toOpenAIModelList([{ ...model, tags: [] }]).data[0]!.id, 'sha256:abc');
  });
});
