import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GenerateEvent, TokenLogprob } from '../../../src/engine/types.js';
import { buildChatCompletion, buildTextCompletion } from '../../../src/openai/chat-response.js';
import { parseChatRequest } from '../../../src/openai/chat-request.js';
import { parseCompletionRequest } from '../../../src/openai/completion-request.js';
import { toCompletionLogprobs } from '../../../src/openai/logprobs.js';
import { ChatChunkStream, TextChunkStream } from '../../../src/openai/stream-chunks.js';
import { assertBadParam } from './assert-bad-param.js';

const chat = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
const meta = { id: 'x', created: 1, model: 'm' };
const usage = { promptTokens: 3, completionTokens: 2 };
const bytes = (s: string) => [...new TextEncoder().encode(s)];
const entry = (token: string, logprob: number, top: Array<[string, number]> = []): TokenLogprob => ({
  token,
  logprob,
  bytes: bytes(token),
  top: top.map(([t, l]) => ({ token: t, logprob: l, bytes: bytes(t) })),
});
const HI = entry('Hi', -0.1, [['Hi', -0.1], ['Ho', -2.5]]);
const THERE = entry(' there', -0.7, [[' there', -0.7], [' you', -1.2]]);

describe('OpenAI logprobs', () => {
  test('chat asks the engine for top_logprobs alternatives only when logprobs is true', () => {
    assert.equal(parseChatRequest({ ...chat, logprobs: true, top_logprobs: 4 }).request.sampling.logprobs, 4);
    assert.equal(parseChatRequest({ ...chat, logprobs: true }).request.sampling.logprobs, 0);
    assert.equal(parseChatRequest({ ...chat, logprobs: false }).request.sampling.logprobs, undefined);
    assert.equal(parseChatRequest(chat).request.sampling.logprobs, undefined);
  });

  test('chat top_logprobs without logprobs true, or outside 0 to 20, is refused naming the field', () => {
    assertBadParam(() => parseChatRequest({ ...chat, top_logprobs: 2 }), 'top_logprobs');
    assertBadParam(() => parseChatRequest({ ...chat, logprobs: false, top_logprobs: 0 }), 'top_logprobs');
    assertBadParam(() => parseChatRequest({ ...chat, logprobs: true, top_logprobs: 21 }), 'top_logprobs');
    assertBadParam(() => parseChatRequest({ ...chat, logprobs: true, top_logprobs: 1.5 }), 'top_logprobs');
    assertBadParam(() => parseChatRequest({ ...chat, logprobs: 'yes' }), 'logprobs');
  });

  test('legacy completions take logprobs as an integer from 0 to 5', () => {
    const prompt = { model: 'm', prompt: 'Hi' };
    assert.equal(parseCompletionRequest({ ...prompt, logprobs: 3 }).request.sampling.logprobs, 3);
    assert.equal(parseCompletionRequest({ ...prompt, logprobs: null }).request.sampling.logprobs, undefined);
    assertBadParam(() => parseCompletionRequest({ ...prompt, logprobs: 6 }), 'logprobs');
    assertBadParam(() => parseCompletionRequest({ ...prompt, logprobs: true }), 'logprobs');
  });

  test('a chat completion carries every token entry under logprobs.content, and null when none were asked for', () => {
    const result = { text: 'Hi there', toolCalls: [], finishReason: 'stop' as const, usage };
    const body = buildChatCompletion(meta, { ...result, logprobs: [HI, THERE] });
    assert.deepEqual(body.choices[0]!.logprobs, {
      content: [
        { token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105] }, { token: 'Ho', logprob: -2.5, bytes: [72, 111] }] },
        { token: ' there', logprob: -0.7, bytes: bytes(' there'), top_logprobs: [{ token: ' there', logprob: -0.7, bytes: bytes(' there') }, { token: ' you', logprob: -1.2, bytes: bytes(' you') }] },
      ],
      refusal: null,
    });
    assert.equal(buildChatCompletion(meta, result).choices[0]!.logprobs, null);
  });

  test('each streamed chat chunk carries the entries of its own tokens; the role and finish chunks carry null', () => {
    const stream = new ChatChunkStream(meta);
    const done: GenerateEvent = { type: 'done', finishReason: 'stop', usage, timings: { timeToFirstTokenMs: 1, promptMs: 1, generationMs: 1 } };
    const chunks = [stream.start(), ...stream.push({ type: 'text', text: 'Hi', logprobs: [HI] }), ...stream.push({ type: 'text', text: ' there', logprobs: [THERE] }), ...stream.push(done)];
    assert.deepEqual(
      chunks.map((c) => c.choices[0]!.logprobs?.content.map((e) => e.token) ?? null),
      [null, ['Hi'], [' there'], null],
    );
  });

  test('a text event with no text still sends the entries it carries (a token that a stop string cut)', () => {
    const chunks = new ChatChunkStream(meta).push({ type: 'text', text: '', logprobs: [HI] });
    assert.deepEqual(chunks.map((c) => [c.choices[0]!.delta, c.choices[0]!.logprobs?.content.length]), [[{ content: '' }, 1]]);
    assert.deepEqual(new ChatChunkStream(meta).push({ type: 'text', text: '' }), []);
  });

  test('legacy completions list tokens, their logprobs, {token: logprob} maps and where each token starts', () => {
    assert.deepEqual(toCompletionLogprobs([HI, THERE]), {
      tokens: ['Hi', ' there'],
      token_logprobs: [-0.1, -0.7],
      top_logprobs: [{ Hi: -0.1, Ho: -2.5 }, { ' there': -0.7, ' you': -1.2 }],
      text_offset: [0, 2],
    });
    const body = buildTextCompletion(meta, { text: 'Hi there', finishReason: 'stop', usage, logprobs: [HI, THERE] });
    assert.deepEqual(body.choices[0]!.logprobs?.tokens, ['Hi', ' there']);
  });

  test('two alternatives with the same text keep the likelier in the legacy map', () => {
    const twin = entry('a', -1, [['a', -1], ['a', -3]]);
    assert.deepEqual(toCompletionLogprobs([twin]).top_logprobs, [{ a: -1 }]);
  });

  test('streamed legacy chunks count text offsets from the start of the whole text', () => {
    const stream = new TextChunkStream(meta);
    const first = stream.push({ type: 'text', text: 'Hi', logprobs: [HI] })[0]!;
    const second = stream.push({ type: 'text', text: ' there', logprobs: [THERE] })[0]!;
    assert.deepEqual(first.choices[0]!.logprobs?.text_offset, [0]);
    assert.deepEqual(second.choices[0]!.logprobs?.text_offset, [2]);
    assert.equal(stream.push({ type: 'text', text: '!' })[0]!.choices[0]!.logprobs, null);
  });
});
