import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOllamaChat } from '../../../src/ollama/chat-request.js';
import { parseOllamaGenerate } from '../../../src/ollama/generate-request.js';
import { logprobsField } from '../../../src/ollama/logprobs.js';
import { assertBadParam } from '../openai/assert-bad-param.js';

const chat = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };

describe('Ollama logprobs', () => {
  test('chat and generate ask the engine for top_logprobs alternatives when logprobs is true, and no longer list them as ignored', () => {
    const parsed = parseOllamaChat({ ...chat, logprobs: true, top_logprobs: 3 });
    assert.equal(parsed.request.sampling.logprobs, 3);
    assert.deepEqual(parsed.ignored, []);
    assert.equal(parseOllamaGenerate({ model: 'm', prompt: 'Hi', logprobs: true }).request.sampling.logprobs, 0);
    assert.equal(parseOllamaChat(chat).request.sampling.logprobs, undefined);
  });

  test('top_logprobs above 0 without logprobs, or above 20, is refused naming the field', () => {
    assertBadParam(() => parseOllamaChat({ ...chat, top_logprobs: 2 }), 'top_logprobs');
    assertBadParam(() => parseOllamaGenerate({ model: 'm', prompt: 'Hi', logprobs: true, top_logprobs: 21 }), 'top_logprobs');
  });

  test('entries become Ollama logprobs with token, logprob, bytes and top_logprobs; no entries add no field', () => {
    const entries = [{ token: 'Hi', logprob: -0.5, bytes: [72, 105], top: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105] }] }];
    assert.deepEqual(logprobsField(entries), {
      logprobs: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105] }] }],
    });
    assert.deepEqual(logprobsField([]), {});
    assert.deepEqual(logprobsField(undefined), {});
  });
});
