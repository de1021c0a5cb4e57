import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { AWAIT_CANCEL_FAULT_MARKER, TEST_FAULTS_ENV } from '../../src/engine/index.js';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { readNativeBuildChoice } from '../../src/engine/worker/native-build.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

describe('generation in a model Worker', () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;
  before(async () => {
    // For the abort test's fault marker; Workers copy the environment when they start.
    process.env[TEST_FAULTS_ENV] = '1';
    model = await tinyModel();
    handle = await loadHandle(model.path);
  });
  after(async () => {
    delete process.env[TEST_FAULTS_ENV];
    await handle?.dispose();
    await model?.cleanup();
  });

  test('the loaded handle reports its settings, memory and backend', () => {
    const info = handle.info!;
    assert.equal(info.contextSize, 2048);
    assert.equal(info.parallel, 1);
    assert.equal(info.threads, 1);
    assert.ok(info.memoryBytes > 0);
    assert.match(info.backend, /llama\.cpp/);
    assert.match(info.version, /^v?\d+\.\d+/);
    assert.equal(info.chatWrapper, 'ChatML');
  });

  test('the Worker reports the build type that make build chose in build/native-engine.json', () => {
    // make build only records "local" after that build loaded and ran in a child process.
    const expected = readNativeBuildChoice().use === 'local' ? 'localBuild' : 'prebuilt';
    assert.equal(handle.info!.build, expected);
  });

  test('the backend shown by /engines/status names the build type and, on Linux, the ggml CPU variant', () => {
    const info = handle.info!;
    assert.ok(info.backend.includes(info.build!), info.backend);
    if (process.platform === 'linux') {
      assert.match(info.cpuVariant ?? '', /^[\w.]+$/);
      assert.ok(info.backend.includes(info.cpuVariant!), info.backend);
    }
  });

  test('a chat streams text events and ends with done and usage', async () => {
    const events = await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'Hello' }], sampling: { maxTokens: 12, temperature: 0, ignoreEos: true } });
    assert.ok(events.length >= 2);
    assert.ok(events.slice(0, -1).every((e) => e.type === 'text'));
    assert.ok(textOf(events).length > 0);
    const done = doneOf(events);
    assert.equal(done.finishReason, 'length');
    assert.equal(done.usage.completionTokens, 12);
    assert.ok(done.usage.promptTokens > 5);
    assert.ok(done.timings.timeToFirstTokenMs > 0);
  });

  test('a completion continues a raw prompt and stops at max tokens', async () => {
    const events = await collect(handle, { kind: 'completion', prompt: 'Once upon a time', sampling: { maxTokens: 6, temperature: 0, ignoreEos: true } });
    const done = doneOf(events);
    assert.equal(done.finishReason, 'length');
    assert.equal(done.usage.completionTokens, 6);
    assert.ok(done.usage.promptTokens >= 'Once upon a time'.length / 2);
  });

  test('the same seed gives the same text and different seeds do not all agree', async () => {
    const run = async (seed: number) =>
      textOf(await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'Tell me' }], sampling: { maxTokens: 24, temperature: 1.5, topK: 0, topP: 1, minP: 0, seed, ignoreEos: true } }));
    const first = await run(42);
    assert.equal(await run(42), first);
    const others = [await run(1), await run(2), await run(3)];
    assert.ok(others.some((t) => t !== first), 'seed must change the sampled text');
  });

  test('a stop string ends generation and is not part of the output', async () => {
    const free = textOf(await collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 20, temperature: 0, ignoreEos: true } }));
    assert.ok(free.length >= 4);
    const stop = free.slice(2, 4);
    const events = await collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 20, temperature: 0, ignoreEos: true, stop: [stop] } });
    assert.equal(doneOf(events).finishReason, 'stop');
    assert.equal(textOf(events), free.slice(0, free.indexOf(stop)));
  });

  test('a logit bias with a token outside the vocabulary is a bad request', async () => {
    await assert.rejects(
      collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 2, logitBias: { 999999: 5 } } }),
      (e: unknown) => e instanceof AppError && e.code === 'bad_request' && /not in the vocabulary/.test(e.message),
    );
  });

  test('a logit bias of -100 bans the token the model would pick', async () => {
    const first = textOf(await collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 1, temperature: 0, ignoreEos: true } }));
    const [banned] = await handle.tokenize(first);
    assert.ok(banned !== undefined);
    const next = textOf(await collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 1, temperature: 0, ignoreEos: true, logitBias: { [banned]: -100 } } }));
    assert.notEqual(next, first);
  });

  test('a prompt longer than the context fails with context_exceeded and the token counts', async () => {
    const long = 'word '.repeat(1000);
    await assert.rejects(collect(handle, { kind: 'completion', prompt: long, sampling: { maxTokens: 4 } }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'context_exceeded');
      assert.equal(e.data?.n_ctx, 2048);
      assert.ok((e.data?.n_prompt_tokens as number) > 2048);
      assert.match(e.message, /^request \(\d+ tokens\) exceeds the available context size \(2048 tokens\), try increasing it$/);
      return true;
    });
  });

  test('an abort stops generation with finish reason abort, and the sequence serves the next request', async () => {
    const controller = new AbortController();
    const events = [];
    // The marker makes the generation wait after its second token until it is cancelled: only the abort can end it.
    const request = { kind: 'completion' as const, prompt: 'abc', sampling: { temperature: 0, ignoreEos: true, stop: [AWAIT_CANCEL_FAULT_MARKER] } };
    for await (const event of handle.generate(request, controller.signal)) {
      events.push(event);
      if (events.length === 1) controller.abort();
    }
    const done = doneOf(events);
    assert.equal(done.finishReason, 'abort');
    assert.ok(done.usage.completionTokens <= 2, `generated ${done.usage.completionTokens} tokens`);
    const next = doneOf(await collect(handle, { kind: 'completion', prompt: 'abc', sampling: { maxTokens: 2, temperature: 0, ignoreEos: true } }));
    assert.equal(next.usage.completionTokens, 2);
  });

  test('a second turn that extends the first reuses the cached prompt', async () => {
    const messages = [{ role: 'user' as const, content: 'What is the plan for today?' }];
    const first = await collect(handle, { kind: 'chat', messages, sampling: { maxTokens: 8, temperature: 0, ignoreEos: true } });
    const turn1 = doneOf(first);
    const next = [...messages, { role: 'assistant' as const, content: textOf(first) }, { role: 'user' as const, content: 'And tomorrow?' }];
    const turn2 = doneOf(await collect(handle, { kind: 'chat', messages: next, sampling: { maxTokens: 4, temperature: 0 } }));
    assert.ok(turn2.usage.promptTokens > turn1.usage.promptTokens);
    assert.ok((turn2.usage.cachedTokens ?? 0) >= turn1.usage.promptTokens, `cached ${turn2.usage.cachedTokens} of ${turn2.usage.promptTokens}`);
  });
});
