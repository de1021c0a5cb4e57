/**
 * Log-probabilities through the compiled server, judged by the official `openai` and `ollama`
 * clients unchanged: chat completions (whole and streamed), legacy completions and Ollama's chat
 * and generate, on the demo model with greedy sampling. The checks are invariants that wrong
 * numbers break: the greedy choice is the most likely alternative with the same log-probability,
 * alternatives come most likely first and their probabilities sum to at most 1, the same request
 * gives the same numbers, the entries' tokens spell the text, and nothing is reported unasked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Ollama } from 'ollama';
import OpenAI from 'openai';
import { startDemoServer } from '../support/demo-server.js';
import { ollamaClient, openaiClient } from '../support/sdk-clients.js';
import type { ServerProcess } from '../support/server-harness.js';

const DEMO = 'ai/demo';
const MESSAGES = [{ role: 'user' as const, content: 'Hello, how are you?' }];
const TOP = 5;
const MAX_TOKENS = 12;

interface Alternative {
  token: string;
  logprob: number;
  bytes?: number[] | null;
}
interface Entry extends Alternative {
  top_logprobs?: Alternative[];
}

/** Every invariant one greedy entry must hold. */
function assertGreedyEntry(entry: Entry, top: number): void {
  const detail = JSON.stringify(entry);
  assert.ok(entry.logprob <= 0, detail);
  assert.deepEqual(entry.bytes, [...new TextEncoder().encode(entry.token)], detail);
  const alternatives = entry.top_logprobs ?? [];
  assert.equal(alternatives.length, top, detail);
  if (top === 0) return;
  // The greedy pick is the most likely token, with the same number.
  if (entry.token !== '') assert.equal(alternatives[0]!.token, entry.token, detail);
  assert.equal(alternatives[0]!.logprob, entry.logprob, detail);
  for (let i = 1; i < alternatives.length; i++) assert.ok(alternatives[i - 1]!.logprob >= alternatives[i]!.logprob, `most likely first: ${detail}`);
  const mass = alternatives.reduce((sum, a) => sum + Math.exp(a.logprob), 0);
  assert.ok(mass <= 1 + 1e-6, `the alternatives' probabilities sum to ${mass}: ${detail}`);
}

describe('log-probabilities in the compiled server', () => {
  let server: ServerProcess;
  let openai: OpenAI;
  let ollama: Ollama;

  before(async () => {
    ({ server } = await startDemoServer({ args: ['--port', '0', '--threads', '1', '--parallel', '2'] }));
    openai = openaiClient(server);
    ollama = ollamaClient(server);
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  const chat = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0, logprobs: true, top_logprobs: TOP, ...extra });

  test('a chat completion reports every token with its log-probability and its most likely alternatives, spelling the text', async () => {
    const completion = await chat();
    const choice = completion.choices[0]!;
    const content = choice.logprobs?.content ?? [];
    assert.ok(content.length > 0 && content.length <= MAX_TOKENS, JSON.stringify(choice));
    for (const entry of content) assertGreedyEntry(entry, TOP);
    assert.equal(content.map((e) => e.token).join(''), choice.message.content);
  });

  test('the same chat request gives the same log-probabilities twice', async () => {
    const [a, b] = [await chat(), await chat()];
    assert.deepEqual(a.choices[0]!.logprobs, b.choices[0]!.logprobs);
  });

  test('a streamed chat carries each chunk\'s own entries, which add up to the whole answer\'s', async () => {
    const whole = (await chat()).choices[0]!.logprobs!.content!;
    const stream = await openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0, logprobs: true, top_logprobs: TOP, stream: true });
    const streamed: Entry[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      const entries = choice.logprobs?.content ?? [];
      assert.equal(entries.map((e) => e.token).join(''), choice.delta.content ?? '', JSON.stringify(chunk));
      streamed.push(...entries);
    }
    assert.deepEqual(streamed, whole);
  });

  test('logprobs true alone reports each token with no alternatives', async () => {
    const content = (await chat({ top_logprobs: undefined })).choices[0]!.logprobs!.content!;
    assert.ok(content.length > 0);
    for (const entry of content) assertGreedyEntry(entry, 0);
  });

  test('a chat that does not ask gets logprobs null, whole and streamed', async () => {
    const plain = await openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: 4, temperature: 0 });
    assert.equal(plain.choices[0]!.logprobs, null);
    const stream = await openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: 4, temperature: 0, stream: true });
    for await (const chunk of stream) if (chunk.choices[0]) assert.equal(chunk.choices[0].logprobs, null);
  });

  test('top_logprobs without logprobs is a 400 that names the field', async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: 2, top_logprobs: 2 }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.param, 'top_logprobs');
        assert.match(err.message, /top_logprobs/);
        return true;
      },
    );
  });

  test('requests with and without logprobs generate side by side, the first as it does alone', async () => {
    const alone = (await chat()).choices[0]!;
    const [withLogprobs, without] = await Promise.all([chat(), openai.chat.completions.create({ model: DEMO, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0 })]);
    assert.equal(withLogprobs.choices[0]!.message.content, alone.message.content);
    assert.equal(without.choices[0]!.message.content, alone.message.content);
    assert.equal(without.choices[0]!.logprobs, null);
    const together = withLogprobs.choices[0]!.logprobs!.content!;
    alone.logprobs!.content!.forEach((entry, i) => assert.ok(Math.abs(entry.logprob - together[i]!.logprob) < 1e-3, `${entry.logprob} vs ${together[i]!.logprob}`));
  });

  test('a legacy completion lists tokens, their logprobs, {token: logprob} maps and text offsets that spell its text', async () => {
    const completion = await openai.completions.create({ model: DEMO, prompt: 'Once upon a time', max_tokens: MAX_TOKENS, temperature: 0, logprobs: 3 });
    const { text, logprobs } = completion.choices[0]!;
    assert.ok(logprobs?.tokens && logprobs.token_logprobs && logprobs.top_logprobs && logprobs.text_offset);
    assert.equal(logprobs.tokens.join(''), text);
    logprobs.tokens.forEach((token, i) => {
      const top = logprobs.top_logprobs![i]!;
      const best = Math.max(...Object.values(top));
      assert.equal(logprobs.token_logprobs![i], best, `the greedy token is the most likely: ${JSON.stringify(top)}`);
      if (token !== '') assert.equal(top[token], best);
      assert.equal(text.slice(logprobs.text_offset![i]!, logprobs.text_offset![i]! + token.length), token);
    });
    const stream = await openai.completions.create({ model: DEMO, prompt: 'Once upon a time', max_tokens: MAX_TOKENS, temperature: 0, logprobs: 3, stream: true });
    const tokens: string[] = [];
    for await (const chunk of stream) tokens.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    assert.deepEqual(tokens, logprobs.tokens);
  });

  test('a stop string that begins inside a token keeps that token\'s entry and drops the ones after it', async () => {
    const request = { model: DEMO, prompt: 'Once upon a time', max_tokens: 16, temperature: 0, logprobs: 2 };
    const full = (await openai.completions.create(request)).choices[0]!;
    const { tokens, text_offset: offsets } = full.logprobs as { tokens: string[]; text_offset: number[] };
    // A stop string that starts in the middle of a token of more than one character.
    const split = tokens.findIndex((t, i) => i > 0 && t.length >= 2);
    assert.ok(split > 0, `the answer needs a token of two characters or more: ${JSON.stringify(tokens)}`);
    const stop = full.text.slice(offsets[split]! + 1, offsets[split]! + 3);
    const cut = full.text.indexOf(stop);
    const stopped = (await openai.completions.create({ ...request, stop: [stop] })).choices[0]!;
    assert.equal(stopped.text, full.text.slice(0, cut));
    assert.deepEqual(stopped.logprobs!.tokens, tokens.filter((_, i) => offsets[i]! < cut));
    const streamed: string[] = [];
    for await (const chunk of await openai.completions.create({ ...request, stop: [stop], stream: true })) streamed.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    assert.deepEqual(streamed, stopped.logprobs!.tokens);
  });

  test('Ollama chat and generate report logprobs with top_logprobs on the final object, and per chunk when streaming', async () => {
    const options = { temperature: 0, num_predict: MAX_TOKENS };
    const whole = await ollama.chat({ model: DEMO, messages: MESSAGES, options, logprobs: true, top_logprobs: 3 });
    const entries = (whole.logprobs ?? []) as Entry[];
    assert.ok(entries.length > 0, JSON.stringify(whole));
    for (const entry of entries) assertGreedyEntry(entry, 3);
    assert.equal(entries.map((e) => e.token).join(''), whole.message.content);

    const streamed: Entry[] = [];
    for await (const part of await ollama.chat({ model: DEMO, messages: MESSAGES, options, logprobs: true, top_logprobs: 3, stream: true })) {
      const own = (part.logprobs ?? []) as Entry[];
      if (!part.done) assert.equal(own.map((e) => e.token).join(''), part.message.content);
      streamed.push(...own);
    }
    assert.deepEqual(streamed, entries);

    const generated = await ollama.generate({ model: DEMO, prompt: 'Hello, how are you?', options, logprobs: true, top_logprobs: 2 });
    const generatedEntries = (generated.logprobs ?? []) as Entry[];
    for (const entry of generatedEntries) assertGreedyEntry(entry, 2);
    assert.equal(generatedEntries.map((e) => e.token).join(''), generated.response);

    const plain = await ollama.chat({ model: DEMO, messages: MESSAGES, options });
    assert.equal(plain.logprobs, undefined);
  });
});
